"""The real hall process for tests: see ``hall/process.py`` (also used by ``kiosk demo``).

    with HallProcess(tmp_path) as hall:            # SQLite in tmp_path/hall-data
        hall.url, hall.enrollment_code(), hall.applications(), hall.set_status(id, "accepted")
        hall.stop(); hall.start()                   # same port, data dir and database
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from hall.process import HallError, free_port, hall_command
from hall.process import HallProcess as _HallProcess

# A quiet machine answers in a second or two; a machine shared by a whole team at a load of 20+ took
# 28 s, and a start that merely waits costs nothing when the hall is quick.
TEST_STARTUP_TIMEOUT_S = 90.0
# A fleet change written by the CLI (another process) reaches the hall's plain heartbeat answers
# within their freshness window (0.4 s, hall/api/heartbeat_writer.py); a kiosk's next beat is a
# minute away, a test's is at once: the CLI's writes wait it out.
FLEET_FRESH_S = 0.5
_CLI_WRITES = {"command", "revoke", "config-push", "release"}


class HallProcess(_HallProcess):
    """``hall.process.HallProcess`` with a start-up wait long enough for a loaded test machine."""

    def __init__(self, *args: Any, startup_timeout_s: float = TEST_STARTUP_TIMEOUT_S, **kwargs: Any) -> None:
        super().__init__(*args, startup_timeout_s=startup_timeout_s, **kwargs)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = super().cli(*args, check=check)
        if args and args[0] in _CLI_WRITES and args[1:2] != ("list",):
            time.sleep(FLEET_FRESH_S)
        return result


__all__ = ["HallError", "HallProcess", "free_port", "hall_command"]
