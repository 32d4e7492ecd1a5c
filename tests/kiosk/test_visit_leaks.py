"""Nothing of a visit outlives its wipe: 30 visits in one kiosk core, no window (issue 10, memory).

A kiosk serves hundreds of villagers between restarts; whatever one visit leaves reachable
(a step holding the old ``Visit``, a page image in a cache, a thread per visit) grows
without bound. Each visit here goes the whole way (card, form, a page (two of them photographed), consent
and signature, sealed, rated) or is abandoned halfway; after the wipe, weak references to the
visit, its pages and its signature must all be dead once the garbage collector ran. Not timed:
``benchmarks/ui.py`` measures the resident set over 200 visits of the real app.
"""

from __future__ import annotations

import gc
import threading
import weakref

from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk.visit import Page
from tests.kiosk.test_signature import STROKES
from tests.screens.scenarios import SERVICE
from tests.screens.test_service import FakeReader, Recorder, make_service, read_card
from tests.support.clock import ManualClock

VISITS = 30
PHOTOGRAPHED = (1, 21)  # these photograph their page: seconds of image work each on a loaded machine
PAGE_JPEG = b"\xff\xd8\xff\xe0" + bytes(2000) + b"\xff\xd9"


def test_thirty_visits_leave_no_visit_page_or_thread_behind(tmp_path):
    service = make_service(tmp_path, ManualClock(), reader=FakeReader(*[ELDERLY_VILLAGER] * VISITS))
    recorder = Recorder()
    service.bind(recorder)
    gone: list[weakref.ref] = []
    threads_after_first = 0
    try:
        for n in range(VISITS):
            assert service.steps.home.start_application()
            recorder.events.clear()
            read_card(service, recorder)
            service.steps.catalog.choose(SERVICE)
            for name, value in (("phone", "13800138000"), ("grade", "360"), ("bank", "psbc")):
                service.steps.form.set_field(name, value)
            if n in PHOTOGRAPHED:
                service.steps.capture.capture_page()  # the camera, page detection, the JPEG
            else:  # the page as the capture step keeps it, without the image work
                service.visit.add_page(Page(material_id="M1", data=PAGE_JPEG, width=8, height=8))
            visit = service.visit
            refs = [weakref.ref(visit), *(weakref.ref(page) for page in visit.pages)]
            if n % 3 == 2:
                service.cancel()  # walked away with the form half done
            else:
                service.steps.signature.agree()
                service.steps.signature.confirm(STROKES)
                refs.append(weakref.ref(visit.signature))
                service.steps.rating.rate(5)
                service.finish()
            del visit
            gone.extend(refs)
            if n == 0:
                threads_after_first = threading.active_count()
        gc.collect()
        alive = [ref() for ref in gone if ref() is not None]
        assert alive == [], f"{len(alive)} of {len(gone)} visit objects survived their wipe: {alive[:3]}"
        assert service.visit is None and service.steps.capture.pages == []
        # no thread per visit (card waits, sealing, sync wakes end or are reused)
        assert threading.active_count() <= threads_after_first
        assert service.queue.summary().counts["sealed"] == VISITS - VISITS // 3
    finally:
        service.close()
