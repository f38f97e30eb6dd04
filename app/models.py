"""Every table, imported in one place for Alembic and the tests."""

from app.auth import ApiToken
from app.directory.models import Site, SiteHost, Unit
from app.reports.models import Report, ReportEvent
from app.workdays.models import CalendarDay, CalendarYear

__all__ = ["ApiToken", "CalendarDay", "CalendarYear", "Report", "ReportEvent", "Site", "SiteHost", "Unit"]
