"""Fixtures and hooks shared by the whole suite.

A session fixture must be defined in one place: imported into several test modules, each
module would get its own instance (and its own pcscd).

The suite runs on two pytest-xdist workers (scripts/run-tests.sh). Each worker has its own
session fixtures (its own PostgreSQL cluster, its own Xvfb displays); the one thing the
workers cannot each have is the machine's pcscd with its single virtual reader, so every
test that uses it is marked ``pcsc`` and scripts/run-tests.sh runs those afterwards in one
process (xdist's ``loadgroup`` did not keep a group on one worker under pytest 9).
"""

from __future__ import annotations

import resource

import pytest

from tests.support.open_services import close_all
from tests.support.pcscd import pcscd  # noqa: F401  (the real pcscd with the vpcd reader)

CPU_PROPERTY = "cpu_s"
CPU_REPORT_COUNT = 25


@pytest.hookimpl(wrapper=True)  # before pytest's own hook selects by marker (``-m pcsc``)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    for item in items:
        if "pcscd" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("pcsc"):
            item.add_marker(pytest.mark.pcsc)
    items[:] = longest_first(items)
    return (yield)


def _own_timeout(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    return float(marker.args[0]) if marker and marker.args else 0.0


def longest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """The tests that set a timeout of their own (the walks, minutes each) before the rest.

    xdist hands the tests out in collection order; the longest walks live in tests/screens,
    late in that order, so one of them (4-5 minutes) often started near the end and the other
    worker sat idle while it ran. Started first, the short tests fill in around them: xdist's
    ``load`` scheduler (3.8) gives each worker a first chunk of consecutive tests, so the walks
    run one after another on one worker while the other takes the rest, and neither is left
    alone at the end (3 December: 27 s between the two workers' last tests in a 22-minute run).
    The sort is stable, so every other test keeps its order: the same on every worker, as
    xdist requires."""
    return sorted(items, key=lambda item: -_own_timeout(item))


@pytest.fixture(autouse=True)
def _close_services_made():
    """Every kiosk service a test made through tests.support.open_services is closed after it."""
    yield
    close_all()


def _cpu_s() -> float:
    """CPU of this process and of every child it has waited for (apps, Xvfb, halls)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_CPU_START = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    # The suite has a time budget on 2 cores: with two workers, CPU rather than waiting is
    # what bounds it, so each test's CPU is reported beside pytest's --durations.
    item.stash[_CPU_START] = _cpu_s()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if call.when == "teardown" and _CPU_START in item.stash:
        report.user_properties.append((CPU_PROPERTY, round(_cpu_s() - item.stash[_CPU_START], 1)))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    spent = [(value, report.nodeid) for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", "") == "teardown"
             for name, value in getattr(report, "user_properties", ()) if name == CPU_PROPERTY]
    if not spent:
        return
    spent.sort(reverse=True)
    total = sum(value for value, _ in spent)
    title = f"CPU: {total:.0f} s in {len(spent)} tests; the {CPU_REPORT_COUNT} costliest"
    terminalreporter.write_sep("=", title)
    for value, nodeid in spent[:CPU_REPORT_COUNT]:
        terminalreporter.write_line(f"{value:8.1f}s cpu  {nodeid}")
