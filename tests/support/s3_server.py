"""A real S3-compatible server for tests: moto's standalone server, its own process on a
free loopback port, reached over HTTP by boto3 exactly as a hall reaches MinIO or S3.

    from tests.support.s3_server import s3_server   # the session fixture, in a conftest
                                                    # (tests/hall/conftest.py: one server per run)
    def test_x(s3_server):
        bucket = s3_server.new_bucket("hall-a")     # an empty bucket of its own
        env = s3_server.env                         # AWS_* variables for a hall process

One server per test session (it starts in a few seconds on a busy machine).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.hall_process import free_port

# moto accepts any credentials; these only have to look real to boto3's signer.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing-hall-key", "AWS_SECRET_ACCESS_KEY": "testing-hall-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


class S3Server:
    def __init__(self, log_dir: Path, startup_timeout_s: float = 60.0) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"moto-{self.port}.log"
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return dict(CREDENTIALS)

    def start(self) -> None:
        env = {**os.environ, **CREDENTIALS, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                requests.get(self.endpoint + "/moto-api/", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not answer within {self.startup_timeout_s} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def client(self):
        import boto3

        return boto3.session.Session(aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                     region_name="us-east-1").client("s3", endpoint_url=self.endpoint)

    def new_bucket(self, stem: str = "hall") -> str:
        name = f"{stem}-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("moto"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
