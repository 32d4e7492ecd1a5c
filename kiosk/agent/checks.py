"""Whether a command delivered in a heartbeat answer may be carried out.

Everything from the network is hostile: the delivery is checked for shape, then the
hall's signature (the key pinned at enrolment), then that it is for this kiosk, not
past its ``not_after``, not seen before and of a kind the kiosk knows. The first failing
check is the refusal reason sent back in the acknowledgement.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.agent.documents import (
    COMMAND_CONTEXT,
    COMMAND_FIELDS,
    BadCommandArgs,
    check_args,
    verify_document,
)

# Refusal reasons (stable codes, in acknowledgements and the hall's console).
MALFORMED = "malformed"
BAD_SIGNATURE = "bad_signature"
OTHER_DEVICE = "other_device"
EXPIRED = "expired"
REPLAYED = "replayed"
UNKNOWN_KIND = "unknown_kind"


@dataclass(frozen=True)
class Command:
    id: str
    kind: str
    args: dict[str, Any]
    not_after: float


@dataclass(frozen=True)
class Refusal:
    command_id: str  # "" when the delivery has no usable id
    reason: str
    signed: bool  # True when the hall really signed it (then the hall wants the refusal back)


def _unix(text: object) -> float:
    if not isinstance(text, str):
        raise ValueError("not a time")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("time without zone")
    return value.timestamp()


def check_delivery(delivery: object, hall_key: Ed25519PublicKey, device_id: str, now: float,
                   seen: Container[str]) -> Command | Refusal:
    """A ``Command`` to carry out, or the ``Refusal`` to acknowledge."""
    if not isinstance(delivery, Mapping) or not isinstance(delivery.get("document"), Mapping):
        return Refusal("", MALFORMED, False)
    document = delivery["document"]
    raw_id = document.get("id")
    command_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= 64 else ""
    if set(document) != set(COMMAND_FIELDS) or not command_id:
        return Refusal(command_id, MALFORMED, False)
    if not verify_document(hall_key, COMMAND_CONTEXT, document, delivery.get("signature")):
        return Refusal(command_id, BAD_SIGNATURE, False)
    if document["device_id"] != device_id:
        return Refusal(command_id, OTHER_DEVICE, True)
    try:
        not_after = _unix(document["not_after"])
    except ValueError:
        return Refusal(command_id, MALFORMED, True)
    if now > not_after:
        return Refusal(command_id, EXPIRED, True)
    if command_id in seen:
        return Refusal(command_id, REPLAYED, True)
    kind, args = document["kind"], document["args"]
    if not isinstance(kind, str) or not isinstance(args, Mapping):
        return Refusal(command_id, MALFORMED, True)
    try:
        checked = check_args(kind, args)
    except BadCommandArgs:
        return Refusal(command_id, UNKNOWN_KIND, True)
    return Command(command_id, kind, checked, not_after)
