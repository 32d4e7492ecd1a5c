"""Consent and signature (kiosk.signature, kiosk.steps.signature): the PNG, the refusals, the seal."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hardware.sample_cards import ELDERLY_VILLAGER
from kiosk.catalog import load_catalog
from kiosk.i18n import Translator
from kiosk.service import ActionFailed, KioskService
from kiosk.settings import load_settings
from kiosk.signature import HEIGHT, WIDTH, SignatureEmpty, render_signature
from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import open_box
from tests.screens.scenarios import make_identity
from tests.screens.test_service import FakeCamera, FakeReader, Recorder, fill_in, read_card
from tests.support.clock import ManualClock

# a name-like scrawl: two strokes across most of the pad
STROKES = [[(0.1 + 0.02 * i, 0.5 + 0.2 * math.sin(i / 2)) for i in range(30)],
           [(0.5, 0.2), (0.55, 0.8), (0.6, 0.3), (0.8, 0.6)]]


def test_strokes_become_a_small_grey_png_of_the_pad():
    png = render_signature(STROKES)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 20_000
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (HEIGHT, WIDTH)  # one grey channel
    assert (image < 128).sum() > 1000 and image[0, 0] == 255  # ink on white


@pytest.mark.parametrize("strokes", [[], [[(0.5, 0.5)]], [[(0.1, 0.1), (0.12, 0.1)] * 4],
                                     [[(float("nan"), 0.2)] * 10], "not strokes", [[("a", "b")]], [[1, 2]]])
def test_nothing_or_a_dot_or_garbage_is_no_signature(strokes):
    with pytest.raises(SignatureEmpty) as err:
        render_signature(strokes)
    assert err.value.message_key == "signature.empty"


def test_consent_and_signature_are_needed_and_sealed_with_the_application(tmp_path):
    hall_key = X25519PrivateKey.generate()
    settings = load_settings(data_dir=tmp_path, environ={})
    clock = ManualClock()
    service = KioskService(settings=settings, catalog=load_catalog(), translator=Translator.load(lang="zh"),
                           id_reader=FakeReader(ELDERLY_VILLAGER), camera=FakeCamera(),
                           queue=OfflineQueue(tmp_path, settings.queue.budget_bytes, clock=clock),
                           identity=make_identity(settings.kiosk.county, settings.hall.url, hall_key),
                           clock=clock)
    recorder = Recorder()
    service.steps.home.start_application()
    read_card(service, recorder)
    fill_in(service)
    step = service.steps.signature
    assert service.steps.review.next_step() == "signature" and step.next_step() == "receipt"

    step.enter()
    assert recorder.events[-1] == ("consent_prompt", {"prompt_key": "voice.consent",
                                                      "text": step.consent_text()})
    with pytest.raises(ActionFailed) as err:
        step.confirm(STROKES)
    assert err.value.message_key == "consent.needed"
    assert step.agree() is True
    assert recorder.events[-1] == ("signature_prompt", {"prompt_key": "voice.signature"})
    with pytest.raises(ActionFailed) as err:
        step.confirm([])
    assert err.value.message_key == "signature.empty"
    assert service.queue.summary().counts["sealed"] == 0  # nothing sealed without a signature

    receipt = step.confirm(STROKES)
    [entry] = service.queue.entries()
    assert entry.provisional_number == receipt.provisional_number and entry.page_count == 1
    context = entry.id.encode("ascii")
    document = json.loads(open_box(service.queue.sealed_document(entry.id), hall_key, context))
    assert document["consent"] == {"agreed": True, "text": step.consent_text()}
    assert [(a["material"], a["media_type"], a["pages"]) for a in document["attachments"]][-1] == \
        ("signature", "image/png", 0)
    sealed = service.queue.attachments(entry.id)[-1]
    assert sealed.material == "signature"
    assert open_box(service.queue.read_blob(sealed.sha256), hall_key, context) == render_signature(STROKES)

    visit = service.visit
    signature = visit.signature
    service.finish()
    assert visit.signature is None and visit.consent_text == "" and bytes(signature.data) == b""
    service.close()
