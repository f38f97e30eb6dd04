"""The one place where lower domains get the functions of the higher ones they trigger.

Domains import only those below them (workdays → directory → reports → sla → stats); when a
lower one must set off a higher one (a calendar load recomputing reports' deadlines, a report
planning its escalation and telling its unit) it calls a hook that this module fills in.
"""

from app.directory import hooks as directory_hooks
from app.reports import deadlines, site_routing
from app.reports import hooks as report_hooks
from app.sla import citizen, escalation, notify, reopening
from app.workdays import hooks as workday_hooks


def install_hooks() -> None:
    """Wire every domain's hooks; called by the server, the scheduler and the CLI (idempotent)."""
    workday_hooks.install(recompute_open_deadlines=deadlines.recompute_open_deadlines)
    directory_hooks.install(route_waiting_reports=site_routing.route_waiting_reports)
    report_hooks.install(
        plan_next_rung=escalation.plan_next_rung,
        notify_new_report=notify.notify_new_report,
        on_event=citizen.on_report_event,
    )
    report_hooks.install_reopening(notify_reopened=reopening.notify_reopened)
