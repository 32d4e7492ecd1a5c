"""What the kiosk reads from PC/SC cards: the social security card and the staff card.

Both clients work over an ``ApduTransport`` (``hardware.pcsc_transport``), which follows
``61xx`` and ``6Cxx``; they raise only the device layer's typed errors.

**Social security card** (社会保障卡; layout from HARDWARE.md): SELECT by name
``sx1.sh.社会保障``, then SELECT ``EF05`` (records 01 card identification code — its first
six characters are the issuing region —, 05 issue date, 06 expiry date, 07 card number)
and ``EF06`` (08 social security number = the resident ID number, 09 name in GBK, 0A sex,
0B ethnicity, 0D birth date). Records are read with READ RECORD ``00 B2 <rec> 04 <Le>``,
each answer being tag, length, value; we ask with Le = 00 and let the card tell the right
length (``6C xx``). Dates are BCD; the ethnicity byte is read as BCD of the GB 3304 code
(sources disagree: uncertain). A PIN is verified first only when one is given.

**Staff card** for grid workers: our own small applet (AID ``F0 'KIOSKSTAFF'``)::

    SELECT        00 A4 04 00 0B F0 4B 49 4F 53 4B 53 54 41 46 46   -> 61 xx (FCI)
    worker id     80 CA 00 01 Le     ASCII, e.g. GW-441423-0007 (readable without a PIN)
    county        80 CA 00 02 Le     ASCII GB/T 2260 county code
    role          80 CA 00 03 Le     ASCII, only after VERIFY (else 69 82)
    card key      80 CA 00 04 Le     the card's X25519 PUBLIC key, 32 raw bytes (readable without a
                                     PIN); a card without a key pair (an older card): 6A88 or 6B00
    VERIFY        00 20 00 01 Lc PIN ASCII digits (4-8): 90 00 | 63 Cx (x tries left) | 69 83 blocked
    tries left    00 20 00 01        (no data) 63 Cx, or 90 00 when already verified
    KEY AGREE     80 86 00 01 20 <peer's X25519 public key, 32 bytes> 20
                                     -> the 32-byte X25519 shared secret, computed ON the card (the
                                     private key never leaves it); only after VERIFY in this card
                                     session (69 82 before); 6A80 data not 32 bytes or a low-order
                                     point (all-zero secret); 6A88 no key pair; 6D00 an older card

A "card session" ends when the card is reset, powered off, taken out or SELECTed again:
VERIFY is needed anew. ``VerifiedStaffCard`` keeps one session open after the PIN, so the
kiosk can ask the card for key agreements while the grid worker is signed in (the
worklist opens the county's reasons sealed to the card's key: ``offline_queue.outbox``).

``read_smart_card`` tells the two apart (staff applet first) and raises
``UnsupportedCard`` for any other card: "this card cannot be read here".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, overload

from hardware.errors import (
    CardDataError,
    CardReadError,
    PinBlocked,
    SmartCardError,
    UnsupportedCard,
    WrongPin,
)
from hardware.pcsc_transport import ApduTransport
from hardware.sam_text import ETHNICITY_BY_CODE, SEX_BY_CODE, parse_yyyymmdd

SOCIAL_SECURITY_AID = b"sx1.sh." + "社会保障".encode("gbk")
STAFF_AID = bytes.fromhex("F0") + b"KIOSKSTAFF"
EF_CARD = b"\xef\x05"
EF_HOLDER = b"\xef\x06"

CARD_SOCIAL_SECURITY = "social_security"
CARD_STAFF = "staff"

# Status words meaning "no such application / file here": another kind of card.
NOT_THIS_CARD = frozenset({0x6A82, 0x6A81, 0x6A86, 0x6D00, 0x6E00, 0x6985, 0x6999})
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_PIN_BLOCKED = 0x6983
SW_RECORD_NOT_FOUND = 0x6A83
SW_WRONG_DATA = 0x6A80

STAFF_TAG_PUBLIC_KEY = 0x04
INS_KEY_AGREE = 0x86  # proprietary (CLA 80), shaped like ISO 7816's GENERAL AUTHENTICATE
KEY_REFERENCE = 0x01
X25519_BYTES = 32
# "no key pair here": referenced data not found, or an older card that knows no tag 04 / INS 86
NO_CARD_KEY = frozenset({0x6A88, 0x6B00, 0x6A82, 0x6A86, 0x6D00})


@dataclass(frozen=True, repr=False)
class SocialSecurityCard:
    """One read of a social security card. The repr hides everything personal."""

    card_id: str  # card identification code; [:6] is the issuing region
    card_number: str
    id_number: str  # the social security number is the holder's resident ID number
    name: str
    sex: str  # male | female | unknown | unspecified
    ethnicity: str | None  # Chinese name; None when blank or unknown
    birth_date: date
    issued: date | None = None
    expires: date | None = None

    card_type = CARD_SOCIAL_SECURITY

    @property
    def region_code(self) -> str:
        return self.card_id[:6]

    def is_expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def __repr__(self) -> str:
        return f"SocialSecurityCard(region_code={self.region_code!r}, id_number='{self.id_number[:2]}…')"

    __str__ = __repr__


@dataclass(frozen=True)
class StaffCardReading:
    """A grid worker's staff card: who they are for the kiosk (no personal data beyond the id)."""

    worker_id: str
    county: str
    role: str | None = None  # only known after the PIN was verified
    public_key: bytes | None = field(default=None, repr=False)  # X25519; None on an older card

    card_type = CARD_STAFF


def _select_aid(transport: ApduTransport, aid: bytes, what: str) -> None:
    answer = transport.transmit(bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid)
    if answer.sw in NOT_THIS_CARD:
        raise UnsupportedCard(f"no {what} application on this card")
    if not answer.ok:
        raise SmartCardError(f"select {what}", answer.sw)


class StaffCardClient:
    """The staff card applet (see the module docstring) over an ``ApduTransport``."""

    def __init__(self, transport: ApduTransport) -> None:
        self.transport = transport

    def select(self) -> None:
        _select_aid(self.transport, STAFF_AID, "staff card")

    def _get(self, tag: int, what: str) -> str:
        data = self.transport.command(bytes([0x80, 0xCA, 0x00, tag, 0x00]), what)
        try:
            return data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise CardDataError(f"staff card {what} is not ASCII") from exc

    def worker_id(self) -> str:
        return self._get(1, "worker id")

    def county(self) -> str:
        return self._get(2, "county")

    def role(self) -> str:
        """Readable only after ``verify_pin``; raises ``SmartCardError(6982)`` before."""
        return self._get(3, "role")

    def public_key(self) -> bytes | None:
        """The card's X25519 public key (no PIN needed); None on a card without a key pair."""
        answer = self.transport.transmit(bytes([0x80, 0xCA, 0x00, STAFF_TAG_PUBLIC_KEY, 0x00]))
        if answer.sw in NO_CARD_KEY:
            return None
        if not answer.ok:
            raise SmartCardError("card key", answer.sw)
        if len(answer.data) != X25519_BYTES:
            raise CardDataError("the staff card's key is not 32 bytes")
        return answer.data

    def key_agreement(self, peer_public: bytes) -> bytes:
        """X25519(card's private key, ``peer_public``), computed by the card after VERIFY.

        Raises ``SmartCardError`` with the card's status word: 6982 before VERIFY in this
        card session, 6A80 for a peer key the card refuses, 6A88 / 6D00 without a key pair.
        The secret is never put in a message or a log line."""
        if len(peer_public) != X25519_BYTES:
            raise ValueError("an X25519 public key is 32 bytes")
        apdu = (bytes([0x80, INS_KEY_AGREE, 0x00, KEY_REFERENCE, X25519_BYTES]) + bytes(peer_public)
                + bytes([X25519_BYTES]))
        answer = self.transport.transmit(apdu)
        if answer.sw == SW_SECURITY_NOT_SATISFIED:
            raise SmartCardError("the card wants its PIN before a key agreement", answer.sw)
        if not answer.ok:
            raise SmartCardError("key agreement refused", answer.sw)
        if len(answer.data) != X25519_BYTES:
            raise CardDataError("the card's shared secret is not 32 bytes")
        return answer.data

    def pin_tries_left(self) -> int | None:
        """Tries left (None when already verified in this session)."""
        answer = self.transport.transmit(bytes([0x00, 0x20, 0x00, 0x01]))
        if answer.ok:
            return None
        if answer.sw1 == 0x63 and answer.sw2 & 0xF0 == 0xC0:
            return answer.sw2 & 0x0F
        if answer.sw == SW_PIN_BLOCKED:
            return 0
        raise SmartCardError("asking the PIN tries", answer.sw)

    def verify_pin(self, pin: str) -> None:
        """Raises ``WrongPin(retries_left)`` or ``PinBlocked``; never puts the PIN in a message."""
        if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
            raise WrongPin(None)
        raw = pin.encode("ascii")
        answer = self.transport.transmit(bytes([0x00, 0x20, 0x00, 0x01, len(raw)]) + raw)
        if answer.ok:
            return
        if answer.sw == SW_PIN_BLOCKED:
            raise PinBlocked("the staff card PIN is blocked", answer.sw)
        if answer.sw1 == 0x63 and answer.sw2 & 0xF0 == 0xC0:
            raise WrongPin(answer.sw2 & 0x0F, answer.sw)
        raise SmartCardError("verify PIN", answer.sw)

    def read(self, pin: str | None = None) -> StaffCardReading:
        self.select()
        worker_id, county, public_key = self.worker_id(), self.county(), self.public_key()
        role = None
        if pin is not None:
            self.verify_pin(pin)
            role = self.role()
        return StaffCardReading(worker_id=worker_id, county=county, role=role, public_key=public_key)


class VerifiedStaffCard:
    """A staff card whose PIN was verified, its card session kept open for key agreements.

    ``agree(peer_public)`` asks the card (one at a time: a lock) and returns what it said;
    once the card has left or answered that it wants the PIN again, ``agree`` raises that
    error each time without asking. ``close()`` (the grid worker signs out) releases the
    connection through ``on_close``. The kiosk keeps no secret of the card: the private key
    never leaves it, and what ``agree`` returns is the caller's to use and drop.
    """

    def __init__(self, client: StaffCardClient, public_key: bytes,
                 on_close: Callable[[], None] = lambda: None) -> None:
        self.client = client
        self.public_key = bytes(public_key)
        self._on_close = on_close
        self._lock = threading.Lock()
        self._closed = False
        self._dead: CardReadError | None = None

    @property
    def usable(self) -> bool:
        return not self._closed and self._dead is None

    def agree(self, peer_public: bytes) -> bytes:
        with self._lock:
            if self._closed:
                raise SmartCardError("the staff card session is closed")
            if self._dead is not None:
                raise self._dead
            try:
                return self.client.key_agreement(peer_public)
            except CardReadError as exc:  # CardRemoved, 6982 after a reset …: the session is over
                if isinstance(exc, SmartCardError) and exc.sw == SW_WRONG_DATA:
                    raise  # this peer key only; the session goes on
                self._dead = exc
                raise

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._on_close()
        except Exception:  # noqa: BLE001 - a card already gone: nothing left to release
            pass

    def __repr__(self) -> str:
        return f"VerifiedStaffCard(usable={self.usable})"


class SocialSecurityClient:
    """Reads a social security card over an ``ApduTransport``."""

    def __init__(self, transport: ApduTransport) -> None:
        self.transport = transport

    def select(self) -> None:
        _select_aid(self.transport, SOCIAL_SECURITY_AID, "social security")

    def _select_ef(self, fid: bytes) -> None:
        self.transport.command(bytes([0x00, 0xA4, 0x00, 0x00, 0x02]) + fid, "select EF")

    @overload
    def record(self, number: int, optional: Literal[False] = False) -> bytes: ...

    @overload
    def record(self, number: int, optional: bool) -> bytes | None: ...

    def record(self, number: int, optional: bool = False) -> bytes | None:
        """The value of record ``number``; None only for an ``optional`` one the card lacks."""
        answer = self.transport.transmit(bytes([0x00, 0xB2, number, 0x04, 0x00]))
        if optional and answer.sw == SW_RECORD_NOT_FOUND:
            return None
        if answer.sw == SW_SECURITY_NOT_SATISFIED:
            raise SmartCardError("the card wants its PIN first", answer.sw)
        if not answer.ok:
            raise SmartCardError(f"read record {number:02X}", answer.sw)
        data = answer.data
        if len(data) < 2 or data[0] != number or len(data) != 2 + data[1]:
            raise CardDataError(f"record {number:02X} is not tag, length, value")
        return data[2:]

    def verify_pin(self, pin: str) -> None:
        if not (pin.isascii() and pin.isdigit() and len(pin) % 2 == 0 and 4 <= len(pin) <= 12):
            raise WrongPin(None)
        raw = bytes.fromhex(pin)
        answer = self.transport.transmit(bytes([0x00, 0x20, 0x00, 0x00, len(raw)]) + raw)
        if answer.ok:
            return
        if answer.sw == SW_PIN_BLOCKED:
            raise PinBlocked("the social security card PIN is blocked", answer.sw)
        if answer.sw1 == 0x63:
            raise WrongPin(answer.sw2 & 0x0F, answer.sw)
        raise SmartCardError("verify PIN", answer.sw)

    def read(self, pin: str | None = None) -> SocialSecurityCard:
        self.select()
        self._select_ef(EF_CARD)
        card_id = _ascii(self.record(0x01), "card id")
        issued = _optional_bcd_date(self.record(0x05, optional=True), "issue date")
        expires = _optional_bcd_date(self.record(0x06, optional=True), "expiry date")
        card_number = _ascii(self.record(0x07), "card number")
        if pin is not None:
            self.verify_pin(pin)
        self._select_ef(EF_HOLDER)
        id_number = _ascii(self.record(0x08), "social security number")
        try:
            name = self.record(0x09).replace(b"\x00", b" ").decode("gb18030").strip()
        except UnicodeDecodeError as exc:
            raise CardDataError("name is not GBK text") from exc
        sex = SEX_BY_CODE.get(_ascii(self.record(0x0A), "sex"))
        if sex is None:
            raise CardDataError("sex holds an unknown code")
        ethnicity_raw = self.record(0x0B)
        ethnicity = ETHNICITY_BY_CODE.get(ethnicity_raw.hex()) if ethnicity_raw else None
        birth = _optional_bcd_date(self.record(0x0D), "birth date")
        if birth is None:
            raise CardDataError("birth date is blank")
        return SocialSecurityCard(card_id=card_id, card_number=card_number, id_number=id_number,
                                  name=name, sex=sex, ethnicity=ethnicity, birth_date=birth,
                                  issued=issued, expires=expires)


def read_smart_card(
    transport: ApduTransport, pin: str | None = None
) -> StaffCardReading | SocialSecurityCard:
    """Whatever card this is: a staff card, a social security card, or ``UnsupportedCard``."""
    try:
        return StaffCardClient(transport).read(pin)
    except UnsupportedCard:
        pass
    try:
        return SocialSecurityClient(transport).read(pin)
    except UnsupportedCard:
        raise UnsupportedCard("neither a staff card nor a social security card") from None


def _ascii(value: bytes | None, what: str) -> str:
    try:
        return (value or b"").decode("ascii").strip("\x00 ")
    except UnicodeDecodeError as exc:
        raise CardDataError(f"{what} is not ASCII") from exc


def _optional_bcd_date(value: bytes | None, what: str) -> date | None:
    if not value or value.strip(b"\x00\xff") == b"":
        return None
    return parse_yyyymmdd(value.hex(), what)  # BCD: each byte's hex is two decimal digits
