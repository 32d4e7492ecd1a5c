"""Signed fleet documents shared by the hall (signs) and the kiosk (verifies).

A command is the JSON object ``{id, device_id, kind, args, issued_at, not_after}``; the
hall signs its *canonical JSON* (keys sorted, no spaces, UTF-8) prefixed with a context
line, so a signature made for one purpose can never be replayed as another:

    hall-command-v1\\n<canonical JSON>

This context differs from the answer signatures' ``hall-answer-v1`` (offline_queue/signing.py):
an answer signature is never a valid command signature, and the other way round.

``COMMAND_ARGS`` is the one table of command kinds and the arguments each takes; the hall
validates what staff type against it and the kiosk refuses a kind it does not know.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

COMMAND_CONTEXT = "hall-command-v1"
# A configuration document: {version, device_id, settings (nested tables), issued_at}.
CONFIG_CONTEXT = "hall-config-v1"
CONFIG_FIELDS = ("version", "device_id", "settings", "issued_at")
# Keys the hall may not set: where the kiosk keeps its data, and which hall it talks to
# (a wrong URL pushed by mistake would cut every kiosk off from the hall that could fix it).
CONFIG_FORBIDDEN_KEYS = frozenset({"kiosk.data_dir", "hall.url"})
MAX_NOTICE_CHARS = 500

# kind -> {argument: type}; a kind not here does not exist.
COMMAND_ARGS: dict[str, dict[str, type]] = {
    "lock": {"notice": str},
    "unlock": {},
    "restart": {},
    "self_test": {},
    "upload_diagnostics": {},
    "sync_now": {},
    "wipe": {"force": bool},
    "rotate_keys": {},
    "reload_config": {},
}
# Kinds that interrupt a villager or destroy data: run only when idle, in the maintenance window.
DISRUPTIVE_KINDS = frozenset({"restart", "wipe", "rotate_keys"})
COMMAND_FIELDS = ("id", "device_id", "kind", "args", "issued_at", "not_after")

# A key rotation: {device_id, old_public_key, new_public_key} (base64 raw keys), signed by the
# old key (the hall knows it: it vouches for the new one) and by the new key (the kiosk holds it).
ROTATION_CONTEXT = "kiosk-key-rotation-v1"
ROTATION_FIELDS = ("device_id", "old_public_key", "new_public_key")


def diagnostics_context(device_id: str) -> bytes:
    """The sealing context of a kiosk's diagnostics: a box cannot pass for another kiosk's."""
    return b"diagnostics:" + device_id.encode("utf-8")


class BadCommandArgs(ValueError):
    """The arguments do not fit the kind (the message names the argument, never a value)."""


def check_args(kind: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` checked against ``COMMAND_ARGS[kind]``; raises ``BadCommandArgs``."""
    if kind not in COMMAND_ARGS:
        raise BadCommandArgs(f"unknown command kind {kind!r}; one of {', '.join(COMMAND_ARGS)}")
    allowed = COMMAND_ARGS[kind]
    checked: dict[str, Any] = {}
    for name, value in args.items():
        if name not in allowed:
            raise BadCommandArgs(f"{kind} takes no argument {name!r}")
        if not isinstance(value, allowed[name]):
            raise BadCommandArgs(f"{kind}: {name} must be {allowed[name].__name__}")
        if isinstance(value, str) and len(value) > MAX_NOTICE_CHARS:
            raise BadCommandArgs(f"{kind}: {name} is longer than {MAX_NOTICE_CHARS} characters")
        checked[name] = value
    return checked


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _message(context: str, document: Mapping[str, Any]) -> bytes:
    return context.encode("ascii") + b"\n" + canonical_json(document)


def sign_document(private_key: Ed25519PrivateKey, context: str, document: Mapping[str, Any]) -> str:
    """Base64 Ed25519 signature over ``context`` + canonical JSON of ``document``."""
    return base64.b64encode(private_key.sign(_message(context, document))).decode("ascii")


def verify_document(public_key: Ed25519PublicKey, context: str, document: Mapping[str, Any],
                    signature: object) -> bool:
    """True when ``signature`` is the hall's signature of ``document`` for ``context``."""
    if not isinstance(signature, str) or not signature:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, _message(context, document))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
