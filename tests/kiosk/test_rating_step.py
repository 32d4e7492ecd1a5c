"""The rating step (kiosk.steps.rating): 好差评 queued as its own record, once per application."""

from __future__ import annotations

import pytest

from kiosk.service import ActionFailed
from tests.kiosk.test_signature import STROKES
from tests.screens.test_service import FakeWorker, Recorder, fill_in, make_service, read_card
from tests.support.clock import ManualClock


def test_a_rating_names_the_sealed_application_and_is_queued_once(tmp_path):
    worker = FakeWorker()
    service = make_service(tmp_path, ManualClock(), worker=worker)
    step = service.steps.rating
    assert [c.score for c in step.choices()] == [5, 4, 3, 2, 1]
    assert [c.text for c in step.choices()][0] == "非常满意" and step.choices()[-1].colour == "red"
    assert step.needs_reason(2) and step.needs_reason(1) and not step.needs_reason(3)
    service.steps.home.start_application()
    read_card(service, Recorder())
    fill_in(service)
    with pytest.raises(ActionFailed) as err:
        step.rate(5)  # nothing sealed yet
    assert err.value.message_key == "rating.nothing_to_rate"
    service.steps.signature.agree()
    receipt = service.steps.signature.confirm(STROKES)
    assert service.steps.receipt.next_step() == "rating"
    woken = worker.woken

    with pytest.raises(ActionFailed) as err:
        step.rate(5, "slow")  # a reason only when unhappy
    assert err.value.message_key == "rating.invalid"
    step.rate(2, "slow")
    assert worker.woken == woken + 1
    with pytest.raises(ActionFailed) as err:
        step.rate(1, "other")
    assert err.value.message_key == "rating.already"
    [queued] = step.queue.due()
    assert queued.body["application_ref"] == receipt.provisional_number
    body = queued.body
    assert (body["service_code"], body["score"], body["reason"]) == ("GD-SAMPLE-001", 2, "slow")
    assert service.queue.summary().counts["sealed"] == 1  # the application's own record is untouched
    service.finish()
    service.close()
