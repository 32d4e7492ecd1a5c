"""The steps of a visit and the moves between them: the one table the navigator follows.

A screen never names the screen that comes next: it asks the navigator to move
``forward`` and the step's controller says where forward leads (``next_step``), which
must be one of the moves written here. ``back`` (to the step before) and ``home``
(cancel: the visit is wiped) are allowed from every step; ``finish`` (the visit is done,
wiped) from the steps in ``ENDS``.
"""

from __future__ import annotations

HOME = "home"
IDENTIFY = "identify"
CATALOG = "catalog"
GUIDE = "guide"
FORM = "form"
CERTIFICATES = "certificates"  # e-certificates found on the hall, used instead of photographs
CAPTURE = "capture"
REVIEW = "review"
SIGNATURE = "signature"
RECEIPT = "receipt"
RATING = "rating"
STATUS = "status"
WORKLIST = "worklist"  # a signed-in grid worker's applications (代办), outside a villager's visit
SUPPLEMENT = "supplement"  # a correction answered: the supplement sealed and queued, its confirmation
MAINTENANCE = "maintenance"  # the technician's, behind a PIN: outside any visit
OUT_OF_SERVICE = "out_of_service"  # the county locked the kiosk: only its notice shows

# step -> the steps it may move forward to
MOVES: dict[str, tuple[str, ...]] = {
    HOME: (IDENTIFY, MAINTENANCE, WORKLIST),
    IDENTIFY: (CATALOG, STATUS),  # apply: choose the item; status lookup: the applications
    CATALOG: (GUIDE,),
    GUIDE: (FORM,),
    FORM: (CAPTURE, CERTIFICATES),  # e-certificates first when the item can use one (steps.certificates)
    CERTIFICATES: (CAPTURE, REVIEW),  # the review directly when the certificates cover every material
    CAPTURE: (REVIEW, SUPPLEMENT),  # answering a correction: the named pages only, then sealed
    REVIEW: (SIGNATURE,),
    SIGNATURE: (RECEIPT,),  # agreed, signed and confirmed: sealed and queued; no way back into it
    RECEIPT: (RATING,),  # 好差评 after the receipt (skippable: "finish" from either)
    RATING: (),
    STATUS: (CAPTURE,),  # 补交材料: photograph what the county asked for
    SUPPLEMENT: (),
    WORKLIST: (CAPTURE,),  # the grid worker adds the missing page on the spot
    OUT_OF_SERVICE: (MAINTENANCE,),
    MAINTENANCE: (),  # exit: home (or the out-of-service notice, while locked)
}
ENDS = (RECEIPT, RATING, STATUS, SUPPLEMENT)  # "done" finishes the visit
NO_WAY_BACK = (RECEIPT, SUPPLEMENT)  # once shown, the history before it is forgotten
NOT_RETURNED_TO = (IDENTIFY,)  # "back" skips it: the card is read already (back from catalog goes home)


class MoveRefused(RuntimeError):
    """A move the table does not have: a bug in a step controller, never a villager's doing."""


def check_move(current: str, target: str) -> None:
    if target not in MOVES.get(current, ()):
        raise MoveRefused(f"no move from {current!r} to {target!r}")
