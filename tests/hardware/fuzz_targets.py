"""Properties for fuzzing the SAM frame parser and the text-block decoder with hypothesis.

Shared by ``tests/hardware/test_fuzz.py`` (a few thousand cases in ``make test``) and
``benchmarks/fuzz_idcard.py`` (the big run, ≥ 10⁵ cases). The contract: whatever the bytes,
no crash, no hang, only typed errors (``FrameError`` from the parser; ``CardDataError`` or
``UnsupportedCard`` from the decoder, both ``CardReadError``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from hardware import sam_protocol as proto
from hardware.errors import CardDataError, FrameError, UnsupportedCard
from hardware.sam_text import BLOCK_SIZE, decode_text_block, encode_text_block
from hardware.sample_cards import ELDERLY_VILLAGER, EXPIRED_CARD, MIDDLE_AGED_VILLAGER

VALID_BLOCKS = [encode_text_block(c) for c in (ELDERLY_VILLAGER, MIDDLE_AGED_VILLAGER, EXPIRED_CARD)]
VALID_FRAMES = [
    proto.build_reader_frame(proto.Status.CARD_FOUND, bytes(4)),
    proto.build_reader_frame(proto.Status.OK, proto.build_read_answer(VALID_BLOCKS[0], bytes(1024))),
    proto.build_reader_frame(proto.Status.NO_CARD),
]


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A valid input with a few bytes flipped, cut, inserted or spliced."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == 0 and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == 1:
            del data[pos : pos + draw(st.integers(1, 40))]
        elif op == 2:
            data[pos:pos] = draw(st.binary(max_size=16))
        else:
            data[pos:pos] = proto.PREAMBLE
    return bytes(data)


stream_bytes = st.one_of(
    st.binary(max_size=600),
    mutated(VALID_FRAMES),
    st.lists(st.one_of(mutated(VALID_FRAMES), st.binary(max_size=20)), max_size=4).map(b"".join),
)
chunk_sizes = st.lists(st.one_of(st.integers(1, 8), st.integers(9, 512)), min_size=1, max_size=4)
text_blocks = st.one_of(
    st.binary(min_size=BLOCK_SIZE, max_size=BLOCK_SIZE),
    mutated(VALID_BLOCKS).map(lambda b: b[:BLOCK_SIZE].ljust(BLOCK_SIZE, b" ")),
    st.text(max_size=BLOCK_SIZE // 2).map(lambda t: t.encode("utf-16-le", "surrogatepass")[:BLOCK_SIZE]),
    st.binary(max_size=300),
)


def parse_stream(data: bytes, sizes: list[int]) -> int:
    """Feed ``data`` in chunks; returns frames found. Raises nothing but ``FrameError``, which it counts."""
    parser = proto.FrameParser()
    found, offset, i = 0, 0, 0
    rounds = 0
    while offset < len(data) or rounds == 0:
        size = sizes[i % len(sizes)]
        chunk, offset, i = data[offset : offset + size], offset + size, i + 1
        frames = parser.feed(chunk)
        while True:  # resynchronise after each FrameError, as the driver does
            rounds += 1
            assert rounds < 10 * (len(data) + 10), "the parser does not make progress"
            try:
                for frame in frames:
                    assert isinstance(frame, proto.ReaderFrame)
                    found += 1
                break
            except FrameError:
                frames = parser.feed(b"")
    assert parser.pending <= len(data)
    return found


def decode_block(block: bytes) -> None:
    try:
        card = decode_text_block(block)
    except (CardDataError, UnsupportedCard):
        return
    assert card.card_type in ("resident", "hk_macau_taiwan", "foreign_permanent")
    repr(card)
