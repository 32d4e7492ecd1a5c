"""The proof that the villager at the kiosk is the applicant, for a result on the hall.

``result_proof(applicant_tag, application_id)`` is an HMAC of the application id under the
kiosk's applicant tag (itself an HMAC of the ID number under this kiosk's tag key). It
goes into the sealed application document (``result_proof``), and the kiosk sends it
again when the villager whose card is placed asks for a result
(``hall.services.result_download``): the hall compares, never learns the tag, and the
proof is good for that one application only.
"""

from __future__ import annotations

import hashlib
import hmac


def result_proof(applicant_tag: str, application_id: str) -> str:
    return hmac.new(applicant_tag.encode("ascii"), b"result:" + application_id.encode("ascii"),
                    hashlib.sha256).hexdigest()
