"""What happens above the directory domain when sites are created or reopened.

Reports waiting unrouted for that site must reach its owner unit in the same transaction, but
`reports` sits above `directory`; so the directory calls this name, and
`app.wiring.install_hooks()` hands in `app.reports.site_routing.route_waiting_reports`.
"""

from collections.abc import Callable
from typing import Any

_installed: dict[str, Callable[..., int]] = {}


def install(*, route_waiting_reports: Callable[..., int]) -> None:
    """Hand in the function that routes the unrouted reports of sites just opened."""
    _installed["route_waiting_reports"] = route_waiting_reports


def route_waiting_reports(**arguments: Any) -> int:
    """Route the unrouted reports with the code or a host of `sites` to their owners; how many."""
    try:
        route = _installed["route_waiting_reports"]
    except KeyError:
        raise RuntimeError(
            "the directory hook 'route_waiting_reports' is not installed: "
            "call app.wiring.install_hooks() first"
        ) from None
    return route(**arguments)
