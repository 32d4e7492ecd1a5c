"""Virtual smart cards that plug into the real ``pcscd`` through vsmartcard's vpcd reader.

Debian's ``vsmartcard-vpcd`` adds the reader "Virtual PCD 00 00" to ``pcscd``; it waits
for a card on TCP port 35963. A card is any program that connects there and speaks::

    every message: 2-byte big-endian length, then the payload
    1-byte payload = control: 00 power off, 01 power on, 02 reset, 04 send the ATR
    any other payload = a command APDU: answer with the response APDU
    closing the socket = the card is taken out

``VpcdCard(card).insert()`` connects one of the cards below; ``remove()`` takes it out. The
kiosk's real pyscard code then talks to it through the real ``pcscd``: that is how the
PC/SC tests run without hardware. On a real kiosk vpcd is not installed (or its ports are
firewalled).

The cards:

* ``SocialSecurityCard`` — the layout several independent readers of the 社会保障卡 use
  (HARDWARE.md): SELECT by name ``sx1.sh.社会保障`` answers ``61 1E``; ``EF05`` holds the
  card identification code (01) and card number (07), plus issue (05) and expiry (06)
  dates; ``EF06`` the social security number (08), name (09, GBK), sex (0A), ethnicity
  (0B) and birth date (0D). READ RECORD with a wrong Le answers ``6C xx``. With ``pin``
  set, ``EF06`` wants VERIFY first (some cards do; uncertain).
* ``StaffCard`` — the grid workers' card, an applet we define (see ``hardware.pcsc_cards``):
  SELECT by AID (answers ``61 xx`` with its FCI), GET DATA for the worker id and county,
  VERIFY a PIN with a retry counter, and a role readable only after VERIFY; with a ``key``
  (an X25519 private key that stays inside) its public key by GET DATA and the key
  agreement after VERIFY. ``key=None`` is an older card that knows neither.
* ``BlankCard`` — a card with no applet we know (a bank card, say): "file not found".

Dates on the social security card are BCD; the ethnicity byte is taken as BCD of the
GB 3304 code (the sources do not agree; uncertain).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from workers.loop import BackgroundLoop, PassResult

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963  # "Virtual PCD 00 00"; 35964 is "Virtual PCD 00 01"

SW_OK = 0x9000
SW_FILE_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_NO_CURRENT_EF = 0x6986
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_PIN_BLOCKED = 0x6983
SW_WRONG_LENGTH = 0x6700
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_WRONG_DATA = 0x6A80

SOCIAL_SECURITY_AID = b"sx1.sh." + "社会保障".encode("gbk")
STAFF_AID = bytes.fromhex("F0") + b"KIOSKSTAFF"


@dataclass(frozen=True)
class CommandApdu:
    """A short command APDU, split into its parts. ``le`` is None when absent (0 means 256)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        if len(raw) < 4:
            raise ValueError("an APDU has at least 4 bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2, b"", None)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0])
        lc = body[0]
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1:]), None)
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1:-1]), body[-1])
        raise ValueError("APDU length does not match Lc")


def _sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


def bcd_date(day: date) -> bytes:
    return bytes.fromhex(day.strftime("%Y%m%d"))


class VirtualCard:
    """A card: an ATR and an answer for every APDU. Subclasses implement ``handle``.

    Answers longer than the command asked for, or to cards that chain (T=0 style), are
    announced with ``61 xx`` and fetched with GET RESPONSE (``00 C0 00 00 xx``).
    """

    atr = bytes.fromhex("3B00")

    def __init__(self) -> None:
        self._pending = b""
        self.commands: list[bytes] = []  # every APDU heard (tests look at it)

    def power_on(self) -> None:
        self._pending = b""
        self.reset()

    def reset(self) -> None:
        """Back to the state after power-on (nothing selected, PIN not verified)."""

    def process(self, raw: bytes) -> bytes:
        self.commands.append(bytes(raw))
        try:
            apdu = CommandApdu.parse(raw)
        except ValueError:
            return _sw(SW_WRONG_LENGTH)
        if apdu.ins == 0xC0 and apdu.cla == 0x00:
            return self._get_response(apdu)
        self._pending = b""
        try:
            data, sw = self.handle(apdu)
        except Exception:  # a bug in a test card must not hang pcscd: answer an error
            log.exception("virtual card failed on an APDU")
            return _sw(0x6F00)
        return bytes(data) + _sw(sw)

    def handle(self, apdu: CommandApdu) -> tuple[bytes, int]:
        return b"", SW_FILE_NOT_FOUND

    def chain(self, data: bytes) -> tuple[bytes, int]:
        """Answer ``61 xx``: the data waits for GET RESPONSE."""
        self._pending = bytes(data)
        return b"", 0x6100 | min(len(data), 256) % 256

    def _get_response(self, apdu: CommandApdu) -> bytes:
        if not self._pending:
            return _sw(SW_CONDITIONS_NOT_SATISFIED)
        want = 256 if not apdu.le else apdu.le
        part, self._pending = self._pending[:want], self._pending[want:]
        if self._pending:
            return part + _sw(0x6100 | min(len(self._pending), 256) % 256)
        return part + _sw(SW_OK)


def exact_le(apdu: CommandApdu, data: bytes) -> tuple[bytes, int]:
    """ISO 7816 "wrong Le": answer ``6C xx`` unless Le is exactly the length of the data."""
    if apdu.le is None or apdu.le != len(data) % 256:
        return b"", 0x6C00 | (len(data) % 256)
    return data, SW_OK


class BlankCard(VirtualCard):
    """A card with no application the kiosk knows (a bank or transport card)."""

    atr = bytes.fromhex("3B00")


class SocialSecurityCard(VirtualCard):
    """A 社会保障卡 with one holder (fictional data)."""

    atr = bytes.fromhex("3B6C0000") + b"SSCARD-GD-01"
    EF_CARD = b"\xef\x05"
    EF_HOLDER = b"\xef\x06"

    def __init__(
        self,
        *,
        card_id: str,
        card_number: str,
        ssn: str,
        name: str,
        sex: str,  # GB/T 2261 code: 1 male, 2 female, 0 unknown, 9 unspecified
        ethnicity: str,  # GB 3304 code, two digits
        birth_date: date,
        issued: date | None = None,
        expires: date | None = None,
        pin: str | None = None,
    ) -> None:
        super().__init__()
        name_bytes = name.encode("gbk")
        self.files: dict[bytes, dict[int, bytes]] = {
            self.EF_CARD: {0x01: card_id.encode("ascii"), 0x07: card_number.encode("ascii")},
            self.EF_HOLDER: {
                0x08: ssn.encode("ascii"),
                0x09: name_bytes + b"\x00" * (30 - len(name_bytes)),
                0x0A: sex.encode("ascii"),
                0x0B: bytes.fromhex(ethnicity),
                0x0D: bcd_date(birth_date),
            },
        }
        if issued:
            self.files[self.EF_CARD][0x05] = bcd_date(issued)
        if expires:
            self.files[self.EF_CARD][0x06] = bcd_date(expires)
        self.pin = pin
        self.reset()

    def reset(self) -> None:
        self._in_app = False
        self._ef: bytes | None = None
        self._verified = False

    def handle(self, apdu: CommandApdu) -> tuple[bytes, int]:
        if apdu.cla != 0x00:
            return b"", SW_CLA_NOT_SUPPORTED
        if apdu.ins == 0xA4 and apdu.p1 == 0x04:  # SELECT by name
            if apdu.data != SOCIAL_SECURITY_AID:
                return b"", SW_FILE_NOT_FOUND
            self._in_app, self._ef = True, None
            fci = (b"\x6f\x1c\x84\x0f" + SOCIAL_SECURITY_AID
                   + b"\xa5\x09\x9f\x08\x01\x02\xbf\x0c\x03\x01\x02\x03")
            return self.chain(fci[:30].ljust(30, b"\x00"))
        if apdu.ins == 0xA4 and apdu.p1 == 0x00:  # SELECT EF by file id
            if not self._in_app or apdu.data not in self.files:
                return b"", SW_FILE_NOT_FOUND
            self._ef = apdu.data
            return b"", SW_OK
        if apdu.ins == 0x20:  # VERIFY (PIN as BCD)
            if self.pin is None or apdu.data == bytes.fromhex(self.pin):
                self._verified = True
                return b"", SW_OK
            return b"", 0x63C0
        if apdu.ins == 0xB2:  # READ RECORD p1 of the current EF
            if self._ef is None:
                return b"", SW_NO_CURRENT_EF
            if apdu.p2 != 0x04:
                return b"", SW_WRONG_P1P2
            if self._ef == self.EF_HOLDER and self.pin is not None and not self._verified:
                return b"", SW_SECURITY_NOT_SATISFIED
            value = self.files[self._ef].get(apdu.p1)
            if value is None:
                return b"", SW_RECORD_NOT_FOUND
            return exact_le(apdu, bytes([apdu.p1, len(value)]) + value)
        return b"", SW_INS_NOT_SUPPORTED


class StaffCard(VirtualCard):
    """The grid workers' staff card applet (our own definition; ``hardware.pcsc_cards``).

    =====================  ==============================  ===================================
    command                APDU                            answer
    =====================  ==============================  ===================================
    SELECT by AID          00 A4 04 00 0B <STAFF_AID>      61 xx, then the FCI
    GET DATA worker id     80 CA 00 01 Le                  ASCII worker id (6C xx if Le wrong)
    GET DATA county        80 CA 00 02 Le                  ASCII 6-digit county code
    GET DATA role          80 CA 00 03 Le                  ASCII role, after VERIFY only (6982)
    GET DATA card key      80 CA 00 04 Le                  32-byte X25519 public key (6B00: none)
    VERIFY                 00 20 00 01 Lc <PIN ASCII>      9000; 63 Cx (x tries left); 6983
    VERIFY (ask tries)     00 20 00 01                     63 Cx, or 9000 when verified
    KEY AGREE              80 86 00 01 20 <peer key> 20    32-byte shared secret, after VERIFY
                                                           only (6982); 6A80 bad or low-order
                                                           key; 6D00 without a key (older card)
    =====================  ==============================  ===================================

    ``agreements`` counts the key agreements the card made (tests look at it).
    """

    atr = bytes.fromhex("3B6A0000") + b"KIOSKSTAFF"
    MAX_TRIES = 3

    def __init__(
        self, *, worker_id: str, county: str, role: str = "grid_worker", pin: str = "123456",
        key: X25519PrivateKey | None = None,
    ) -> None:
        super().__init__()
        self.worker_id = worker_id
        self.county = county
        self.role = role
        self.pin = pin
        self._key = key  # never answered: only its public half and what X25519 makes of it
        self.agreements = 0
        self.tries_left = self.MAX_TRIES  # kept across resets, as on a real card
        self.reset()

    def reset(self) -> None:
        self._selected = False
        self._verified = False

    def handle(self, apdu: CommandApdu) -> tuple[bytes, int]:
        if apdu.ins == 0xA4 and apdu.cla == 0x00 and apdu.p1 == 0x04:
            if apdu.data != STAFF_AID:
                self._selected = False
                return b"", SW_FILE_NOT_FOUND
            self._selected, self._verified = True, False
            return self.chain(b"\x6f\x0f\x84\x0b" + STAFF_AID + b"\x01\x00")
        if not self._selected:
            return b"", SW_CONDITIONS_NOT_SATISFIED if apdu.ins in (0xCA, 0x20) else SW_INS_NOT_SUPPORTED
        if apdu.ins == 0x20 and apdu.cla == 0x00 and apdu.p2 == 0x01:
            return self._verify(apdu.data)
        if apdu.ins == 0xCA and apdu.cla == 0x80:
            if apdu.p1 == 0x00 and apdu.p2 == 4 and self._key is not None:
                return exact_le(apdu, self.public_key or b"")
            if apdu.p1 != 0x00 or apdu.p2 not in (1, 2, 3):
                return b"", SW_WRONG_P1P2
            if apdu.p2 == 3 and not self._verified:
                return b"", SW_SECURITY_NOT_SATISFIED
            value = {1: self.worker_id, 2: self.county, 3: self.role}[apdu.p2].encode("ascii")
            return exact_le(apdu, value)
        if apdu.ins == 0x86 and apdu.cla == 0x80 and self._key is not None:
            return self._key_agreement(apdu)
        return b"", SW_INS_NOT_SUPPORTED

    @property
    def public_key(self) -> bytes | None:
        if self._key is None:
            return None
        return self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def _key_agreement(self, apdu: CommandApdu) -> tuple[bytes, int]:
        assert self._key is not None
        if (apdu.p1, apdu.p2) != (0x00, 0x01):
            return b"", SW_WRONG_P1P2
        if not self._verified:
            return b"", SW_SECURITY_NOT_SATISFIED
        if len(apdu.data) != 32:
            return b"", SW_WRONG_DATA
        try:
            shared = self._key.exchange(X25519PublicKey.from_public_bytes(apdu.data))
        except ValueError:  # a low-order point: the all-zero secret is refused
            return b"", SW_WRONG_DATA
        self.agreements += 1
        return exact_le(apdu, shared)

    def _verify(self, pin: bytes) -> tuple[bytes, int]:
        if self.tries_left == 0:
            return b"", SW_PIN_BLOCKED
        if not pin:
            return b"", SW_OK if self._verified else 0x63C0 | self.tries_left
        if not 4 <= len(pin) <= 8:
            return b"", SW_WRONG_LENGTH
        if pin == self.pin.encode("ascii"):
            self.tries_left, self._verified = self.MAX_TRIES, True
            return b"", SW_OK
        self.tries_left -= 1
        self._verified = False
        return b"", SW_PIN_BLOCKED if self.tries_left == 0 else 0x63C0 | self.tries_left


class VpcdCard:
    """Puts a ``VirtualCard`` into vpcd's virtual reader, on a thread: ``insert()``, ``remove()``.

    ``insert`` connects (retrying until ``timeout`` while vpcd is not listening yet);
    ``remove`` closes the socket, which vpcd reports to ``pcscd`` as the card taken out.
    """

    def __init__(self, card: VirtualCard, host: str = VPCD_HOST, port: int = VPCD_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._loop: BackgroundLoop | None = None
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, timeout: float = 5.0) -> None:
        import time

        self.remove()
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sock = sock
        # one pass answers one message; a card model that raises is logged and answers 6F00
        self._loop = BackgroundLoop("vpcd-card", lambda: self._serve_one(sock), interval_s=0.0,
                                    crash_backoff_s=0.0)
        self._loop.start()

    def remove(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop(2)

    close = remove

    def __enter__(self) -> VpcdCard:
        self.insert()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def _serve_one(self, sock: socket.socket) -> PassResult:
        """Read one message from vpcd and answer it; STOP once the socket is closed."""
        try:
            head = _recv_exact(sock, 2)
            if head is None:
                return BackgroundLoop.STOP
            (size,) = struct.unpack(">H", head)
            payload = _recv_exact(sock, size)
            if payload is None:
                return BackgroundLoop.STOP
            try:
                answer = self._answer(payload)
            except Exception as exc:  # a bug in a card model: answer as a card would, keep serving
                log.error("virtual card failed on a command (%s); answering 6F00", type(exc).__name__)
                answer = _sw(0x6F00)
            if answer is not None:
                sock.sendall(struct.pack(">H", len(answer)) + answer)
        except OSError:
            return BackgroundLoop.STOP
        return 0.0

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            control = payload[0]
            if control == 0x04:
                return self.card.atr
            if control in (0x01, 0x02):
                self.card.power_on()
            return None  # power off, power on and reset have no answer
        return self.card.process(payload)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    buf = b""
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def sample_social_security_card(**overrides: object) -> SocialSecurityCard:
    """A fictional villager's social security card (the demo's and the tests')."""
    from hardware.sample_cards import MIDDLE_AGED_VILLAGER as person

    values: dict[str, object] = dict(
        card_id="441826D15600000A", card_number="D10000037", ssn=person.id_number, name=person.name,
        sex="1", ethnicity="13", birth_date=person.birth_date, issued=date(2019, 9, 1),
        expires=date(2029, 9, 1),
    )
    values.update(overrides)
    return SocialSecurityCard(**values)  # type: ignore[arg-type]


SAMPLE_STAFF_KEY_SEED = bytes(range(1, 33))  # fictional: the sample card's private key, for tests


def sample_staff_key(seed: bytes = SAMPLE_STAFF_KEY_SEED) -> X25519PrivateKey:
    """A staff card's key pair from 32 bytes (tests and the demo; a real card makes its own)."""
    return X25519PrivateKey.from_private_bytes(seed)


def sample_staff_card(**overrides: object) -> StaffCard:
    """A fictional grid worker's staff card with a key pair; PIN 123456 (``key=None``: an older card)."""
    values: dict[str, object] = dict(worker_id="GW-441423-0007", county="441423", role="grid_worker",
                                     pin="123456", key=sample_staff_key())
    values.update(overrides)
    return StaffCard(**values)  # type: ignore[arg-type]
