"""What happens above the reports domain when a report's clock or owner changes.

The escalation ladder and the notification outbox belong to `sla`, which sits above
`reports`; so the lifecycle calls these names, and `app.wiring.install_hooks()` hands in the
real functions at start-up (the server, the scheduler, the CLI and the tests all call it).
Until then a call fails loudly: a report planned without its rungs would never escalate.
"""

from collections.abc import Callable
from typing import Any

from app.reports.models import Report

_installed: dict[str, Callable[..., Any]] = {}


def install(
    *,
    plan_next_rung: Callable[..., None],
    notify_new_report: Callable[..., int | None],
    on_event: Callable[..., int],
) -> None:
    """Hand in the functions that plan a report's next rung, tell its new owner unit, and
    react to each event recorded (telling the citizen)."""
    _installed["plan_next_rung"] = plan_next_rung
    _installed["notify_new_report"] = notify_new_report
    _installed["on_event"] = on_event


def _hook(name: str) -> Callable[..., Any]:
    try:
        return _installed[name]
    except KeyError:
        raise RuntimeError(
            f"the reports hook {name!r} is not installed: call app.wiring.install_hooks() first"
        ) from None


def plan_next_rung(**arguments: Any) -> None:
    """Set a report's next escalation rung from its deadlines (sla.escalation.plan_next_rung)."""
    _hook("plan_next_rung")(**arguments)


def notify_new_report(**arguments: Any) -> int | None:
    """Tell the owner unit that a report has reached it (sla.notify.notify_new_report)."""
    return _hook("notify_new_report")(**arguments)


def on_event(**arguments: Any) -> int:
    """React to an event just recorded: tell the citizen (sla.citizen.on_report_event).

    Called by record_event for every kind; the function installed decides by the kind's value.
    """
    return _hook("on_event")(**arguments)


def clear_next_rung(*, report: Report) -> None:
    """A paused or closed clock has no rung pending."""
    report.next_rung = None
    report.next_rung_at = None


def install_reopening(*, notify_reopened: Callable[..., int | None]) -> None:
    """Hand in the function that tells the owner's supervisor of a reopened report."""
    _installed["notify_reopened"] = notify_reopened


def notify_reopened(**arguments: Any) -> int | None:
    """Tell the owner's parent that a citizen's rating reopened a report (sla.reopening)."""
    return _hook("notify_reopened")(**arguments)
