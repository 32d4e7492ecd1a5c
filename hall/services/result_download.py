"""A completed application's result, handed to the kiosk the villager stands at (issue 12 part 2).

The kiosk asks with a signed device request for result ``index`` of an application, and
proves the applicant: the sealed document it sent holds ``result_proof`` (an HMAC of the
application id under the kiosk's applicant tag, which only a card or ID number of that
villager yields at that kiosk), and the request carries the same value. The hall hands
the result only

* to the device that sent the application, in the device's county (else 404, as if the
  application did not exist),
* when the application is completed and the proof matches (else the same 404: no oracle),
* within a per-device rate (``RESULTS_PER_DEVICE``, else 429 with Retry-After),

and records each handing-out in the audit log. The answer is signed like every API answer
(``hall.api.answer_signing``); the bytes travel in it base64-encoded.

Without ``page`` the answer holds the result as the clerk attached it; with ``page`` it
holds that page image (a PDF's pages are rendered once on the hall, an image is its own
page 0), so a kiosk with no PDF engine prints and shows every page. ``pages`` says how many.
"""

from __future__ import annotations

import base64
import hmac
import json

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.orm import Session

from hall.core.config import Settings
from hall.errors import Conflict, HallError, NotFound
from hall.models import Application, Device
from hall.services import audit, ratelimit
from hall.services.results import open_result, open_result_page, results_of
from hall.timeutil import Clock, system_clock
from offline_queue.sealing import SealError, open_box

RESULTS_PER_DEVICE = ratelimit.Limit("kiosk-results", max_hits=30, window_s=60)
MAX_PROOF = 128


class ResultsBusy(HallError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too many result requests from this kiosk; try again shortly")
        self.retry_after_s = retry_after_s


def _proof_in_document(application: Application, seal_key: X25519PrivateKey) -> str:
    try:
        document = json.loads(open_box(application.sealed_document, seal_key, application.id.encode("ascii")))
    except (SealError, ValueError):
        return ""
    proof = document.get("result_proof") if isinstance(document, dict) else None
    return proof if isinstance(proof, str) else ""


def kiosk_result(db: Session, settings: Settings, seal_key: X25519PrivateKey, device: Device, app_id: str,
                 index: int, proof: str, clock: Clock = system_clock, page: int | None = None) -> dict:
    """Result ``index`` of ``app_id`` for the applicant at ``device``; see the module docstring."""
    verdict = ratelimit.hit(db, RESULTS_PER_DEVICE, device.id, clock())
    if not verdict.allowed:
        raise ResultsBusy(verdict.retry_after_s)
    application = db.get(Application, app_id)
    missing = NotFound(f"no result {index} of {app_id} for this applicant", code="result_not_found")
    if application is None or application.device_id != device.id or application.county != device.county:
        raise missing
    expected = _proof_in_document(application, seal_key)
    if not expected or not proof or len(proof) > MAX_PROOF or not hmac.compare_digest(expected, proof):
        raise missing
    if application.status != "completed":
        raise Conflict("the application is not completed", code="not_completed")
    results = results_of(db, app_id)
    if not 0 <= index < len(results):
        raise missing
    if page is None:
        result, data = open_result(db, settings, seal_key, application, results[index].id)
        media_type = result.media_type
    else:
        result, media_type, data = open_result_page(db, settings, seal_key, application, results[index].id,
                                                    page)
    audit.record(db, f"device:{device.id}", "result_handed_to_kiosk", device_id=device.id,
                 detail={"application": app_id, "result": result.id, "page": page}, clock=clock)
    db.commit()
    answer = {"application_id": app_id, "index": index, "count": len(results), "media_type": media_type,
              "pages": result.pages, "size": len(data), "data": base64.b64encode(data).decode("ascii")}
    if page is not None:
        answer["page"] = page
    return answer
