"""The applicant lookup: a villager's queued applications found again by card, while a
stolen disk does not give up the ID numbers behind them (issue 9, finding 8).

The kiosk hands the outbox an *applicant tag* (``kiosk.privacy.applicant_tag``: an HMAC
of the ID number under ``tag.key``, which sits on the same disk). An ID number has little
entropy — a county code (in ``identity.json``), a birth date and three digits, the last
character a check digit — so whoever holds the disk can try every number of a county
and match the tags: about 2.4 s per birth year on 2 cores with the HMAC alone.

So the outbox never stores the tag. It stores ``HMAC(scrypt(tag, salt, N=2**15, r=8, p=1),
"lookup")``
(memory-hard: 32 MiB and ~0.1–0.3 s per try on the kiosk's CPU; GPUs gain little), under
a random per-kiosk salt (no table computed once serves every kiosk). Every guess an
attacker makes costs the same: see ``benchmarks/applicant_lookup.py`` and
``docs/security.md`` ("Stolen kiosk") for the measured cost, and for what it does not stop (a
targeted guess with a known birth date). The kiosk pays it once per visit: ``key_for``
remembers the last few results in memory only.

The hall's reasons (a correction or a refusal, which a clerk may write with personal
data in it) are sealed (``offline_queue.sealing``) to an X25519 key derived from the same
scrypt output with another label: the outbox stores only the public half, so the sync
can seal what the hall says, and only a lookup by the applicant's card opens it. (For a
grid worker's application the outbox seals a second copy to the worker's staff card:
``OfflineQueue.by_agent``.)

Lookup keys of finished applications do not outlive their sealed copies: ``purge``
clears them with the blobs (the entry stays, found by its receipt number).

The KDF's parameters and the salt live in the outbox's meta table (``LookupParams``), so
later kiosks may raise the cost; an outbox from before (plain tags in the rows) is
converted on open, one KDF per distinct applicant.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

DEFAULT_N = 2**15
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 32
_CACHE_SIZE = 4


@dataclass(frozen=True)
class LookupParams:
    """scrypt's cost parameters and this kiosk's salt (stored as JSON in the outbox meta table)."""

    salt: bytes
    n: int = DEFAULT_N
    r: int = DEFAULT_R
    p: int = DEFAULT_P

    @classmethod
    def fresh(cls) -> LookupParams:
        return cls(secrets.token_bytes(SALT_BYTES))

    def to_json(self) -> str:
        return json.dumps({"kdf": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": self.salt.hex()})

    @classmethod
    def from_json(cls, text: str) -> LookupParams:
        raw = json.loads(text)
        if raw.get("kdf") != "scrypt":
            raise ValueError("unknown lookup KDF")
        params = cls(bytes.fromhex(raw["salt"]), int(raw["n"]), int(raw["r"]), int(raw["p"]))
        if len(params.salt) < 16 or params.n < 2**10 or params.n & (params.n - 1):
            raise ValueError("lookup KDF parameters too weak or malformed")
        return params


class ApplicantLookup:
    """From one scrypt per applicant: ``key_for(tag)``, the value stored beside an entry and
    searched for ("" for no tag), and ``reason_key(tag)``, the X25519 key that opens the
    hall's reasons sealed to that applicant (only its public half is stored)."""

    def __init__(self, params: LookupParams) -> None:
        self.params = params
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def key_for(self, tag: str) -> str:
        return self._derive(tag, b"lookup").hex() if tag else ""

    def reason_key(self, tag: str) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(self._derive(tag, b"reason"))

    def reason_public(self, tag: str) -> bytes:
        return self.reason_key(tag).public_key().public_bytes(serialization.Encoding.Raw,
                                                              serialization.PublicFormat.Raw)

    def _derive(self, tag: str, label: bytes) -> bytes:
        return hmac.new(self._secret(tag), label, hashlib.sha256).digest()

    def _secret(self, tag: str) -> bytes:
        """The slow step, once per applicant (remembered in memory for the visit)."""
        with self._lock:
            if tag in self._cache:
                self._cache.move_to_end(tag)
                return self._cache[tag]
        p = self.params
        secret = Scrypt(salt=p.salt, length=32, n=p.n, r=p.r, p=p.p).derive(tag.encode("utf-8"))
        with self._lock:
            self._cache[tag] = secret
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return secret

    def forget(self) -> None:
        """Drop the remembered results (e.g. when the kiosk wipes a visit)."""
        with self._lock:
            self._cache.clear()
