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
    VERIFY        00 20 00 01 Lc PIN ASCII digits (4-8): 90 00 | 63 Cx (x tries left) | 69 83 blocked
    tries left    00 20 00 01        (no data) 63 Cx, or 90 00 when already verified

``read_smart_card`` tells the two apart (staff applet first) and raises
``UnsupportedCard`` for any other card: "this card cannot be read here".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, overload

from hardware.errors import CardDataError, PinBlocked, SmartCardError, UnsupportedCard, WrongPin
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
        worker_id, county = self.worker_id(), self.county()
        role = None
        if pin is not None:
            self.verify_pin(pin)
            role = self.role()
        return StaffCardReading(worker_id=worker_id, county=county, role=role)


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
