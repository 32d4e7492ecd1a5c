"""What ``upload_diagnostics`` sends: the kiosk's recent logs, its device report and a queue
summary, masked, compressed, size-capped and sealed to the hall.

Nothing personal leaves in it: the logs were masked as they were written
(``kiosk.privacy.PersonalDataFilter``) and the whole document is masked again here (ID and
phone numbers), the queue summary holds counts and ages only (no provisional numbers, no
names), and the box is sealed to the hall's X25519 key (``offline_queue.sealing``) with the
kiosk's id as context: only the hall opens it, and only as this kiosk's.

The cap: logs are cut from the oldest end until the sealed box fits ``MAX_BOX_BYTES``
(the hall refuses anything bigger).
"""

from __future__ import annotations

import gzip
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.agent.documents import diagnostics_context
from kiosk.privacy import LOG_FILE, mask_text
from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import seal

MAX_BOX_BYTES = 256 * 1024
MAX_LOG_BYTES = 2 * 1024 * 1024  # read at most this much of the newest logs
LOG_FILES = 3  # kiosk.log and its two newest rotated copies


def recent_logs(data_dir: Path, limit: int = MAX_LOG_BYTES) -> str:
    """The newest ``limit`` bytes of the kiosk's logs, oldest line first, masked."""
    folder = Path(data_dir) / "logs"
    paths = [folder / LOG_FILE] + [folder / f"{LOG_FILE}.{n}" for n in range(1, LOG_FILES)]
    chunks: list[bytes] = []
    left = limit
    for path in paths:  # newest first
        if left <= 0 or not path.is_file():
            continue
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - left))
            data = fh.read(left)
        chunks.insert(0, data)
        left -= len(data)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    return mask_text(text)


def queue_summary(queue: OfflineQueue) -> dict[str, Any]:
    """Counts, ages and bytes: nothing that names an application or a person."""
    summary = queue.summary()
    oldest = summary.oldest_unsent_age_s
    return {"counts": dict(summary.counts), "waiting": summary.waiting,
            "oldest_unsent_s": None if oldest is None else int(oldest),
            "bytes_used": summary.bytes_used, "budget_bytes": summary.budget_bytes,
            "near_full": summary.near_full, "free_disk_bytes": summary.free_disk_bytes,
            "purges": len(queue.purges())}


def collect(data_dir: Path, queue: OfflineQueue, health: Callable[[], dict[str, Any]],
            extra: dict[str, Any], clock: Callable[[], float] = time.time) -> dict[str, Any]:
    return {"collected_at": int(clock()), "device": {"health": health(), "python": platform.python_version(),
                                                     "platform": platform.platform(), **extra},
            "queue": queue_summary(queue), "logs": recent_logs(data_dir)}


def sealed_diagnostics(document: dict[str, Any], device_id: str, hall_seal_key: bytes,
                       max_box_bytes: int = MAX_BOX_BYTES) -> tuple[bytes, int]:
    """(the sealed box, how many log characters had to be left out to fit the cap)."""
    logs = str(document.get("logs", ""))
    dropped = 0
    while True:
        body = {**document, "logs": logs, "logs_cut_chars": dropped}
        text = mask_text(json.dumps(body, ensure_ascii=False, sort_keys=True))
        packed = gzip.compress(text.encode("utf-8"), mtime=0)
        box = seal(packed, hall_seal_key, diagnostics_context(device_id))
        if len(box) <= max_box_bytes or not logs:
            return box, dropped
        cut = max(len(logs) // 2, 1)  # drop the older half, keep the newest lines
        logs, dropped = logs[cut:], dropped + cut
