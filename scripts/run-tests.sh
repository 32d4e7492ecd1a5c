#!/usr/bin/env bash
# Runs the whole suite: lint, types, then pytest. The GUI tests start their own Xvfb, the
# PC/SC tests their own pcscd, the PostgreSQL tests their own cluster.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Compiled modules are kept between the suite's processes (__pycache__/, git-ignored): an
# environment that sets PYTHONDONTWRITEBYTECODE (container images often do) made every pytest
# worker rewrite the asserts of ~450 modules again (collection 23 s -> 10 s of CPU each) and
# every app, hall and CLI process compile the project's modules from source again.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/ruff check . || exit 1
# Types over the core (config and the modules not yet clean: pyproject.toml [tool.mypy]).
.venv/bin/mypy kiosk offline_queue hardware workers || exit 1
# Two workers (pytest-xdist): the suite waits on apps, halls and clusters more than it
# computes, so two at once nearly halve its time on two cores. The tests marked pcsc share
# the machine's one pcscd and its single virtual reader: they run afterwards, in one process
# (tests/conftest.py). PYTEST_WORKERS=0 runs the first part in one process too.
# pytest's 5 means "no tests collected": an empty selection is not a failure of the code.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" -m "not pcsc" "$@"
rc=$?; [ "$rc" -eq 5 ] && rc=0
.venv/bin/python -m pytest -m pcsc "$@"
rc_pcsc=$?; [ "$rc_pcsc" -eq 5 ] && rc_pcsc=0
[ "$rc" -ne 0 ] && exit "$rc"
exit "$rc_pcsc"
