"""How long one ID card read takes over the SAM simulator paced at 115200 baud.

A full find / select / read (text + photo) through the real driver and pyserial, with the
simulator pacing both directions at the line's speed (``SamSimulator(baud=…)``: 10 bits a
byte). The wire time is what the bytes exchanged need on the line alone; the goal is a
read in at most 1.1 × that (the driver adds little beyond the line itself).

Prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.sam_reader import SamSerialReader  # noqa: E402
from hardware.sam_simulator import BITS_PER_BYTE, SamSimulator  # noqa: E402
from hardware.sample_cards import ELDERLY_VILLAGER  # noqa: E402

BAUD = 115200
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
GOAL = 1.1


def main() -> int:
    times, wires = [], []
    with SamSimulator(card=ELDERLY_VILLAGER, baud=BAUD) as sim:
        with SamSerialReader(sim.port, baud=BAUD, timeout=2.0, poll_interval=0.01) as reader:
            reader.read_card(timeout=2)  # warm up: the port opened, imports done
            for _ in range(RUNS):
                sim.present_card(ELDERLY_VILLAGER)
                before = sim.bytes_in + sim.bytes_out
                started = time.perf_counter()
                card = reader.read_card(timeout=5)
                elapsed = time.perf_counter() - started
                assert card == ELDERLY_VILLAGER
                times.append(elapsed)
                wires.append((sim.bytes_in + sim.bytes_out - before) * BITS_PER_BYTE / BAUD)
            retries = reader.stats["retries"]
    median = statistics.median(times)
    wire = statistics.median(wires)
    result = {
        "benchmark": "idcard_read",
        "baud": BAUD,
        "runs": RUNS,
        "bytes_per_read": round(wire * BAUD / BITS_PER_BYTE),
        "wire_ms": round(wire * 1000, 2),
        "median_ms": round(median * 1000, 2),
        "p90_ms": round(sorted(times)[int(0.9 * (len(times) - 1))] * 1000, 2),
        "ratio": round(median / wire, 3),
        "goal_ratio": GOAL,
        "meets_goal": median <= GOAL * wire,
        "retries": retries,
    }
    print(f"read {RUNS} cards: median {result['median_ms']} ms for {result['wire_ms']} ms on the wire")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
