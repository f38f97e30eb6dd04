"""Every table, imported in one place for Alembic and the tests."""

from app.audit.models import AdminHistory
from app.auth import ApiToken
from app.directory.models import Site, SiteHost, Unit
from app.heartbeat import JobOutcome, SchedulerHeartbeat
from app.reports.extension_models import ExtensionRequest
from app.reports.models import Report, ReportEvent
from app.reports.screenshots import ReportAttachment
from app.sla.models import CitizenMessage, EscalationRung, Notification
from app.stats.models import (
    NoticeTemplate,
    SettledFigures,
    SettledState,
    SlaReport,
    SlaReportRun,
)
from app.workdays.models import CalendarDay, CalendarYear

__all__ = [
    "AdminHistory",
    "ApiToken",
    "CalendarDay",
    "CalendarYear",
    "CitizenMessage",
    "EscalationRung",
    "ExtensionRequest",
    "JobOutcome",
    "NoticeTemplate",
    "Notification",
    "Report",
    "ReportAttachment",
    "ReportEvent",
    "SchedulerHeartbeat",
    "SettledFigures",
    "SettledState",
    "Site",
    "SiteHost",
    "SlaReport",
    "SlaReportRun",
    "Unit",
]
