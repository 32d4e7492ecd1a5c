"""Who is offered a release at each rollout stage (the hall's rule, without a server; the
real path is in tests/fleet/test_fleet.py and the console's in test_console_fleet.py)."""

from __future__ import annotations

import json

from hall.models import Release
from hall.services.releases import bucket, includes

KIOSKS = [f"kiosk-{n:04d}" for n in range(1000)]


def release(stage: str, percent: int = 0, pilot: tuple[str, ...] = ()) -> Release:
    return Release(version="0.2.0", seq=1, manifest_json="{}", signature="", created_by="t", stage=stage,
                   percent=percent, pilot_json=json.dumps(list(pilot)))


def offered(r: Release, running: str = "") -> set[str]:
    return {k for k in KIOSKS if includes(r, k, running)}


def test_each_stage_offers_the_release_to_the_right_kiosks():
    pilot = ("kiosk-0001", "kiosk-0002")
    assert offered(release("pilot", pilot=pilot)) == set(pilot)
    twenty, fifty = offered(release("percent", 20, pilot)), offered(release("percent", 50, pilot))
    assert set(pilot) <= twenty <= fifty  # raising the share only adds kiosks
    assert 150 <= len(twenty) <= 250 and 420 <= len(fifty) <= 580
    assert offered(release("all")) == set(KIOSKS)
    assert offered(release("halted", 50, pilot)) == set()  # nobody new...
    assert offered(release("halted", 50, pilot), running="0.2.0") == set(KIOSKS)  # ...who has it keeps it
    assert offered(release("rolled_back", 100, pilot), running="0.2.0") == set()
    # The same kiosks each time for one release; another release draws its own sample.
    assert [bucket(k, "0.2.0") for k in KIOSKS[:50]] == [bucket(k, "0.2.0") for k in KIOSKS[:50]]
    assert [bucket(k, "0.2.0") for k in KIOSKS[:50]] != [bucket(k, "0.3.0") for k in KIOSKS[:50]]
