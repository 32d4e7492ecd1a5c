"""A plain heartbeat read from its bytes (hall/api/connection_guard.py ``_whole_plain_request``):
whatever that strict reading takes, httptools reads alike — one whole message, kept alive, ``POST
/api/v1/heartbeat`` over HTTP/1.1, the same signature headers and Content-Length, each once, no
Transfer-Encoding, the same body — so answering it without the parser answers what the present
way would have read. Everything it does not take goes to the parser as before (the served cases:
tests/hall/test_heartbeat_in_protocol.py). Hypothesis mutates a kiosk's beat byte by byte and
line by line."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall.api.connection_guard import HttpToolsProtocol, _whole_plain_request
from hall.api.heartbeat_fast_path import SIGNATURE_HEADER_NAMES
from offline_queue.signing import sign_headers

httptools = pytest.importorskip("httptools")
pytestmark = pytest.mark.skipif(HttpToolsProtocol is None, reason="httptools is not installed")
PATH = "/api/v1/heartbeat"
_KEY = Ed25519PrivateKey.generate()
_BODY = json.dumps({"queue": {"depth": 1}, "versions": {"release": "1.2.3"}}).encode()
_SIGNED = sign_headers(_KEY, "k-0123456789ab", "POST", PATH, [], _BODY, time.time())
# As the kiosk agent (requests) sends a beat.
_LINES = [f"POST {PATH} HTTP/1.1", "Host: hall.example:8443", "User-Agent: python-requests/2.32.3",
          "Accept-Encoding: gzip, deflate", "Accept: */*", "Connection: keep-alive",
          "Content-Type: application/json", f"Content-Length: {len(_BODY)}",
          *(f"{name}: {value}" for name, value in _SIGNED.items())]


def _beat(lines: list[str] = _LINES, body: bytes = _BODY) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Read:
    """What httptools reads from a request: its messages' heads and bodies."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    def on_message_begin(self) -> None:
        self.messages.append({"url": b"", "headers": [], "body": b"", "complete": False})

    def on_url(self, url: bytes) -> None:
        self.messages[-1]["url"] += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.messages[-1]["headers"].append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.messages[-1]["body"] += body

    def on_message_complete(self) -> None:
        self.messages[-1]["complete"] = True


def _as_httptools_reads(data: bytes) -> tuple[_Read, httptools.HttpRequestParser] | None:
    read = _Read()
    parser = httptools.HttpRequestParser(read)
    parser.set_dangerous_leniencies(lenient_data_after_close=True)  # as uvicorn's
    try:
        parser.feed_data(data)
    except httptools.HttpParserError:
        return None
    return read, parser


def _agrees_with_httptools(data: bytes) -> None:
    taken = _whole_plain_request(data)
    if taken is None:
        return
    (device, timestamp, nonce, signature, length), body = taken
    parsed = _as_httptools_reads(data)
    assert parsed is not None, "taken from its bytes, refused by httptools"
    read, parser = parsed
    assert len(read.messages) == 1 and read.messages[0]["complete"]
    message = read.messages[0]
    assert parser.get_method() == b"POST" and parser.get_http_version() == "1.1"
    assert parser.should_keep_alive() and not parser.should_upgrade()
    assert message["url"] == PATH.encode() and message["body"] == body
    headers = message["headers"]
    names = [name for name, _ in headers]
    for name, value in zip((*SIGNATURE_HEADER_NAMES, b"content-length"),
                           (device, timestamp, nonce, signature, length), strict=True):
        if value is None:
            assert name not in names
        else:
            assert [found for header, found in headers if header == name] == [value]
    assert b"transfer-encoding" not in names and b"expect" not in names and names.count(b"host") == 1


def test_a_kiosk_s_beat_is_taken_with_its_values():
    taken = _whole_plain_request(_beat())
    assert taken is not None
    fields, body = taken
    assert fields == (*(value.encode() for value in _SIGNED.values()), str(len(_BODY)).encode())
    assert body == _BODY
    _agrees_with_httptools(_beat())
    # names in any case, headers in any order, Connection absent: taken
    lower = [line.lower() if ":" in line and not line.startswith("X-") else line for line in _LINES]
    assert _whole_plain_request(_beat([lower[0], *reversed(lower[1:])])) is not None
    assert _whole_plain_request(_beat([line for line in _LINES if not line.startswith("Connection")]))


@pytest.mark.parametrize("change", [
    lambda lines: [*lines, "Transfer-Encoding: chunked"],
    lambda lines: [*lines, "transfer-encoding: identity"],
    lambda lines: [*lines, "Content-Length: 5"],
    lambda lines: [*lines, f"content-length: {len(_BODY)}"],
    lambda lines: [*lines, "X-Nonce: 00"],
    lambda lines: [*lines, "Host: other"],
    lambda lines: [line for line in lines if not line.startswith("Host")],
    lambda lines: [*lines, "Expect: 100-continue"],
    lambda lines: [*lines, "Upgrade: websocket"],
    lambda lines: [line.replace("keep-alive", "close") for line in lines],
    lambda lines: [line.replace("keep-alive", "keep-alive, Upgrade") for line in lines],
    lambda lines: [*lines, "Connection: keep-alive"],
    lambda lines: [line.replace("HTTP/1.1", "HTTP/1.0") for line in lines],
    lambda lines: [line.replace(PATH, PATH + "?a=1") for line in lines],
    lambda lines: [line.replace(PATH, "http://hall" + PATH) for line in lines],
    lambda lines: [line.replace("POST", "post") for line in lines],
    lambda lines: [*lines, " folded"],
    lambda lines: [*lines, "X-Note:\ta"],
    lambda lines: [*lines, "X-Note: a\tb"],
    lambda lines: [*lines, "X-Note: a "],
    lambda lines: [*lines, "X-Note:  a"],
    lambda lines: [*lines, "X-Note:a"],
    lambda lines: [*lines, "X-Note :a"],
    lambda lines: [*lines, "X-Note:"],
    lambda lines: [*lines, "X-Note: caf\xe9"],
    lambda lines: [*lines, "X(Note): a"],
    lambda lines: [*lines, "X-Note: a\x00"],
    lambda lines: [line.replace("Content-Length: ", "Content-Length: 0") for line in lines],
    lambda lines: [line.replace("Content-Length: ", "Content-Length: +") for line in lines],
], ids=lambda change: "")
def test_anything_odd_is_left_to_the_parser(change):
    assert _whole_plain_request(_beat(change(list(_LINES)))) is None


@pytest.mark.parametrize("data", [
    _beat()[:-1],  # the body not whole
    _beat() + b"P",  # something after it
    _beat() + _beat(),  # pipelined
    _beat(body=_BODY + b" "),  # the Content-Length too short
    _beat().replace(b"\r\n\r\n", b"\n\n", 1),
    _beat().replace(b"\r\n", b"\n"),
    _beat().replace(b"Host: ", b"Host: x\r\n\r\nHost: "),
])
def test_a_read_that_is_not_exactly_one_whole_beat_is_left_to_the_parser(data):
    assert _whole_plain_request(data) is None


_ALPHABET = st.sampled_from([b" ", b"\t", b"\r", b"\n", b"\r\n", b":", b": ", b",", b"0", b"9", b"a", b"X",
                             b"-", b"\x00", b"\x7f", b"\x80", b"\xff", b"=", b"(", b'"', b"\\", b"chunked",
                             b"close", b"\r\n ", b"\r\nTransfer-Encoding: chunked", b"\r\nContent-Length: 3",
                             b"\r\nX-Nonce: 1", b"\r\nhost: a", b"\r\n\r\n", b"0\r\n\r\n"])


@st.composite
def _mutated(draw) -> bytes:  # noqa: ANN001
    lines = list(_LINES)
    for _ in range(draw(st.integers(0, 2))):  # lines dropped, repeated, swapped
        index = draw(st.integers(1, len(lines) - 1))
        how = draw(st.sampled_from(["drop", "repeat", "swap", "lower", "upper"]))
        if how == "drop" and len(lines) > 2:
            lines.pop(index)
        elif how == "repeat":
            lines.insert(draw(st.integers(1, len(lines))), lines[index])
        elif how == "swap":
            other = draw(st.integers(1, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif how in ("lower", "upper"):
            name, _, value = lines[index].partition(":")
            lines[index] = getattr(name, how)() + ":" + value
    data = bytearray(_beat(lines))
    for _ in range(draw(st.integers(0, 3))):  # bytes replaced, inserted, removed
        at = draw(st.integers(0, len(data)))
        piece = draw(_ALPHABET)
        how = draw(st.sampled_from(["insert", "replace", "remove"]))
        if how == "insert":
            data[at:at] = piece
        elif how == "replace":
            data[at:at + len(piece)] = piece
        else:
            del data[at:at + draw(st.integers(1, 4))]
    return bytes(data)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_whatever_is_taken_from_its_bytes_httptools_reads_alike(data):
    _agrees_with_httptools(data)
