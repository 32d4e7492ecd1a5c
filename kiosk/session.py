"""The names the paper path and the application builder knew before ``kiosk.visit``.

Everything about the person at the kiosk is in ``kiosk.visit.Visit`` now (the card, a
typed number, the form, the pages, the last camera frame, the applicant tag, the lookup
number, the agent), wiped as one; ``Session`` is the same class under its old name.
"""

from __future__ import annotations

from kiosk.visit import Page, Visit, VisitKeeper

Session = Visit
SessionKeeper = VisitKeeper

__all__ = ["Page", "Session", "SessionKeeper"]
