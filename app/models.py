"""Every table, imported in one place for Alembic and the tests."""

from app.auth import ApiToken
from app.directory.models import Site, SiteHost, Unit
from app.reports.models import Report, ReportEvent
from app.sla.models import EscalationRung, Notification
from app.stats.models import (
    NoticeTemplate,
    SettledFigures,
    SettledState,
    SlaReport,
    SlaReportRun,
)
from app.workdays.models import CalendarDay, CalendarYear

__all__ = [
    "ApiToken",
    "CalendarDay",
    "CalendarYear",
    "EscalationRung",
    "NoticeTemplate",
    "Notification",
    "Report",
    "ReportEvent",
    "SettledFigures",
    "SettledState",
    "Site",
    "SiteHost",
    "SlaReport",
    "SlaReportRun",
    "Unit",
]
