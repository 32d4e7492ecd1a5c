"""Kiosks first (hall/api/priority_gate.py): kiosk requests in flight or waiting take
places from anonymous requests; waits end in a refusal, never a hang or a lost place."""

from __future__ import annotations

import asyncio

from hall.api.priority_gate import PriorityGate


def test_kiosks_take_places_from_anonymous_requests_and_waits_end():
    async def scenario() -> None:
        gate = PriorityGate(kiosk=4, login=1, public=3)
        assert gate.allowance("public") == 3 and gate.allowance("login") == 1
        for _ in range(2):
            assert await gate.enter("kiosk", 0.1)
        assert gate.allowance("public") == 1  # 3 less 2 kiosks
        assert gate.allowance("login") == 0  # half the kiosk places are taken
        assert await gate.enter("public", 0.1)
        assert not await gate.enter("public", 0.05)  # refused after its wait
        assert not await gate.enter("login", 0.05)

        # A public request waiting; a kiosk leaves, so the public allowance grows: admitted.
        waiting = asyncio.ensure_future(gate.enter("public", 1.0))
        await asyncio.sleep(0)
        gate.leave("kiosk")
        assert await waiting is True
        assert gate.in_flight == {"kiosk": 1, "login": 0, "public": 2}

        # Kiosks waiting are admitted before anything else; a cancelled waiter loses nothing.
        for _ in range(3):
            assert await gate.enter("kiosk", 0.1)
        queued = [asyncio.ensure_future(gate.enter("kiosk", 1.0)) for _ in range(2)]
        gone = asyncio.ensure_future(gate.enter("kiosk", 1.0))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        assert gate.waiting["kiosk"] == 2
        gate.leave("kiosk")
        gate.leave("kiosk")
        assert [await ticket for ticket in queued] == [True, True]
        assert gate.in_flight["kiosk"] == 4 and gate.waiting == {"kiosk": 0, "login": 0, "public": 0}
        for _ in range(4):
            gate.leave("kiosk")
        for _ in range(2):
            gate.leave("public")
        assert gate.in_flight == {"kiosk": 0, "login": 0, "public": 0}
        assert await gate.enter("login", 0.01)

    asyncio.run(scenario())
