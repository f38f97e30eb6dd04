"""What happens above the workdays domain when an operator loads or changes a year.

Open reports' deadlines must follow the calendar, but `reports` sits above `workdays`; so
the calendar load calls this name, and `app.wiring.install_hooks()` hands in
`app.reports.deadlines.recompute_open_deadlines` at start-up.
"""

from collections.abc import Callable
from typing import Any

_installed: dict[str, Callable[..., int | None]] = {}


def install(*, recompute_open_deadlines: Callable[..., int | None]) -> None:
    """Hand in the function that recomputes open reports' deadlines after a calendar change."""
    _installed["recompute_open_deadlines"] = recompute_open_deadlines


def recompute_open_deadlines(**arguments: Any) -> int | None:
    """Move open reports to the calendar in force (own transactions); how many, None if idle."""
    try:
        recompute = _installed["recompute_open_deadlines"]
    except KeyError:
        raise RuntimeError(
            "the workdays hook 'recompute_open_deadlines' is not installed: "
            "call app.wiring.install_hooks() first"
        ) from None
    return recompute(**arguments)
