# SPDX-License-Identifier: GPL-3.0-or-later
"""The resource request workflow (ICS 213 RR): its states and the moves allowed between them
(core layer, pure Python).

    requested -> acknowledged -> committed -> en route -> on scene -> demobilized -> returned
    cancelled or unable to fill: from requested, acknowledged or committed
    en route -> demobilized: resources turned back before they arrived

`returned`, `cancelled` and `unable_to_fill` end a request. Two states of earlier versions are
still read: `offered` moves like `acknowledged` and `released` like `demobilized`; nobody moves
a request into them any more.
"""
from __future__ import annotations

REQUESTED, ACKNOWLEDGED, COMMITTED = "requested", "acknowledged", "committed"
EN_ROUTE, ON_SCENE, DEMOBILIZED, RETURNED = "en_route", "on_scene", "demobilized", "returned"
CANCELLED, UNABLE = "cancelled", "unable_to_fill"

STATES = (REQUESTED, ACKNOWLEDGED, COMMITTED, EN_ROUTE, ON_SCENE, DEMOBILIZED, RETURNED,
          CANCELLED, UNABLE)
LEGACY = {"offered": ACKNOWLEDGED, "released": DEMOBILIZED}
# every status a stored request may hold: the states, then those of earlier versions
ALL = STATES + tuple(LEGACY)

OPEN = (REQUESTED, ACKNOWLEDGED, COMMITTED)            # nothing has moved yet
ENDED = (RETURNED, CANCELLED, UNABLE)
# a supplier has resources on this request: committed and after, until they are back
HOLDING = (COMMITTED, EN_ROUTE, ON_SCENE, DEMOBILIZED)
NEEDS_SUPPLIER = (COMMITTED, EN_ROUTE, ON_SCENE, DEMOBILIZED, RETURNED)

NEXT: dict[str, tuple[str, ...]] = {
    REQUESTED: (ACKNOWLEDGED, CANCELLED, UNABLE),
    ACKNOWLEDGED: (COMMITTED, CANCELLED, UNABLE),
    COMMITTED: (EN_ROUTE, CANCELLED, UNABLE),
    EN_ROUTE: (ON_SCENE, DEMOBILIZED),
    ON_SCENE: (DEMOBILIZED,),
    DEMOBILIZED: (RETURNED,),
    RETURNED: (), CANCELLED: (), UNABLE: (),
}

# what a move is called where the user makes it (a button, a menu entry)
VERBS = {ACKNOWLEDGED: "Acknowledge", COMMITTED: "Commit resources", EN_ROUTE: "En route",
         ON_SCENE: "On scene", DEMOBILIZED: "Demobilize", RETURNED: "Returned",
         CANCELLED: "Cancel request", UNABLE: "Unable to fill"}

# what the supplier's committed resources show while the request is in a state
RESOURCE_STATUS = {COMMITTED: "assigned", EN_ROUTE: "assigned", ON_SCENE: "assigned",
                   DEMOBILIZED: "demobilized", RETURNED: "available", CANCELLED: "available",
                   UNABLE: "available"}


def canonical(state: str | None) -> str:
    """The state a stored status stands for: none is `requested`, and the states of earlier
    versions map to the ones that replaced them."""
    if not state:
        return REQUESTED
    return LEGACY.get(state, state)


def allowed(before: str | None, after: str | None) -> bool:
    """May a request move from status `before` to `after`? Staying is always allowed (an
    older version's name for the same state included)."""
    a, b = canonical(before), canonical(after)
    return a == b or b in NEXT.get(a, ())


def next_states(state: str | None) -> tuple[str, ...]:
    """The states a request in `state` may move to."""
    return NEXT.get(canonical(state), ())


def label(state: str | None) -> str:
    """A status as people read it: "en route", "unable to fill"."""
    return (state or REQUESTED).replace("_", " ")


def refusal(before: str | None, after: str | None, what: str = "this request") -> str | None:
    """Why a request may not move from `before` to `after`, or None when it may."""
    if allowed(before, after):
        return None
    if after in LEGACY:
        return (f"'{after}' is a status of earlier versions; use "
                f"'{LEGACY[str(after)]}' instead")
    nexts = next_states(before)
    then = (" It may go on to: " + ", ".join(label(s) for s in nexts) + "."
            if nexts else " It has ended: no further step is possible.")
    return (f"{what} is {label(before)} and cannot go to {label(after)}: a resource request "
            f"moves requested, acknowledged, committed, en route, on scene, demobilized, "
            f"returned (or cancelled or unable to fill while nothing has moved).{then}")
