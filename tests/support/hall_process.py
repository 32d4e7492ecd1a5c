"""The real hall process for tests: see ``hall/process.py`` (also used by ``kiosk demo``).

    with HallProcess(tmp_path) as hall:            # SQLite in tmp_path/hall-data
        hall.url, hall.enrollment_code(), hall.applications(), hall.set_status(id, "accepted")
        hall.stop(); hall.start()                   # same port, data dir and database
"""

from hall.process import HallError, HallProcess, free_port, hall_command

__all__ = ["HallError", "HallProcess", "free_port", "hall_command"]
