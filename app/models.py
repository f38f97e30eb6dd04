"""Every table, imported in one place for Alembic and the tests."""

from app.auth import ApiToken
from app.directory.models import Site, SiteHost, Unit
from app.reports.models import Report, ReportEvent
from app.sla.models import EscalationRung, Notification  # noqa: F401
from app.stats.models import SlaReport, SlaReportRun  # noqa: F401
from app.workdays.models import CalendarDay, CalendarYear

__all__ = [
    "ApiToken",
    "CalendarDay",
    "CalendarYear",
    "Report",
    "ReportEvent",
    "Site",
    "SiteHost",
    "Unit",
]
