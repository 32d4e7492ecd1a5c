"""A real ``county-hall serve`` subprocess: used by ``kiosk demo`` and by every test suite
(``tests/support/hall_process.py`` re-exports it).

    with HallProcess(tmp_path) as hall:            # SQLite in tmp_path/hall-data
        code = hall.enrollment_code()
        requests.get(hall.url + "/api/v1/health")
        hall.applications()                         # list of dicts (county-hall applications --json)
        hall.set_status(app_id, "accepted", reason="")
        hall.stop(); hall.start()                   # restart on the same port, data dir and DB

``HallProcess(tmp_path, db_url="postgresql+psycopg://…")`` runs it on PostgreSQL;
``serve_args=["--workers", "2", …]`` passes more ``serve`` options.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when it is free on loopback, else any free port."""
    if preferred:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hall_command() -> list[str]:
    script = Path(sys.executable).parent / "county-hall"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "hall"]


class HallError(RuntimeError):
    """The hall process failed to start or a CLI command failed."""


class HallProcess:
    def __init__(self, tmp_path: Path, db_url: str | None = None, port: int | None = None,
                 startup_timeout_s: float = 90.0, preferred_port: int | None = None,
                 serve_args: list[str] | None = None) -> None:
        self.data_dir = Path(tmp_path) / "hall-data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url or f"sqlite:///{self.data_dir / 'hall.db'}"
        self.port = port or free_port(preferred_port)
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.log_path = Path(tmp_path) / f"hall-{self.port}.log"
        self.startup_timeout_s = startup_timeout_s
        self.serve_args = list(serve_args or [])  # more ``serve`` options, e.g. ["--workers", "2"]
        self._process: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> HallProcess:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("COUNTY_HALL_DB", None)
        env.pop("COUNTY_HALL_DATA_DIR", None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self) -> None:
        if self.running:
            return
        self._log = open(self.log_path, "ab")
        self._process = subprocess.Popen(
            [*hall_command(), "serve", "--db", self.db_url, "--data-dir", str(self.data_dir),
             "--host", self.host, "--port", str(self.port), *self.serve_args],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env(),
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._close_log()
                code = self._process.returncode
                raise HallError(f"county-hall serve exited with {code}:\n{self.log_tail()}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise HallError(
            f"county-hall serve did not answer within {self.startup_timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- the CLI -----------------------------------------------------------
    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``county-hall ARGS --db … --data-dir …`` and return the completed process."""
        result = subprocess.run(
            [*hall_command(), *args, "--db", self.db_url, "--data-dir", str(self.data_dir)],
            capture_output=True, text=True, env=self._env(), timeout=60,
        )
        if check and result.returncode != 0:
            raise HallError(
                f"county-hall {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def enrollment_code(self, county: str | None = None) -> str:
        args = ["enrollment-code"] + (["--county", county] if county else [])
        return self.cli(*args).stdout.strip()

    def applications(self) -> list[dict]:
        out = self.cli("applications", "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def devices(self) -> list[dict]:
        out = self.cli("devices", "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def set_status(self, app_id: str, status: str, reason: str = "") -> None:
        # --walk: a test may complete a just-submitted application; the hall accepts it first.
        self.cli("set-status", app_id, "--status", status, "--reason", reason, "--walk")

    def revoke(self, device_id: str) -> None:
        self.cli("revoke", device_id)

    def create_user(self, username: str, password: str, role: str = "", county: str = "",
                    department: str = "") -> None:
        extra = [f"--{name}={value}" for name, value in
                 (("role", role), ("county", county), ("department", department)) if value]
        self.cli("create-user", "--username", username, "--password", password, *extra)

    def remove_data(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
