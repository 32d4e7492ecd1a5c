"""Fuzzing the frame parser and the text-block decoder (a quick run; the big one is a benchmark).

``KIOSK_FUZZ_EXAMPLES`` sets the cases per property (default 1200, so a few thousand in
all); ``benchmarks/fuzz_idcard.py`` runs ≥ 10⁵.
"""

import os

from hypothesis import HealthCheck, given, settings

from tests.hardware.fuzz_targets import chunk_sizes, decode_block, parse_stream, stream_bytes, text_blocks

EXAMPLES = int(os.environ.get("KIOSK_FUZZ_EXAMPLES", "1200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(stream_bytes, chunk_sizes)
def test_frame_parser_never_crashes_or_hangs(data, sizes):
    parse_stream(data, sizes)


@FUZZ
@given(text_blocks)
def test_text_block_decoder_raises_only_typed_errors(block):
    decode_block(block)


def test_valid_frames_still_come_through_split_anywhere():
    from tests.hardware.fuzz_targets import VALID_FRAMES

    stream = b"\x00\xaa" + b"".join(VALID_FRAMES)
    for size in (1, 2, 7, 64, 5000):
        assert parse_stream(stream, [size]) == len(VALID_FRAMES)
