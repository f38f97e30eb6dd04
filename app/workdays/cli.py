"""`zhaocuo calendar`: load a year from the State Council notice, show a year."""

import getpass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from app.audit.models import cli_actor
from app.clock import Clock
from app.config import get_settings
from app.db import session_scope
from app.errors import AppError
from app.workdays.jobs import load_year_and_follow
from app.workdays.schemas import CalendarNotice
from app.workdays.service import (
    WEEKDAY_NAMES,
    coverage_status,
    describe_year,
)

calendar_app = typer.Typer(
    help="The working-day calendar: load a year from the State Council notice, show a year.",
    no_args_is_help=True,
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'file'}: {error['msg']}"
        for error in exc.errors()
    )


def read_notice_file(path: Path, *, source: str | None) -> CalendarNotice:
    """A notice from a JSON file, or from a CSV file of date,kind,name rows."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return CalendarNotice.from_csv(text, source=source or path.name)
    if source is not None:
        raise ValueError("--source is for CSV files; a JSON file carries its own 'source'")
    return CalendarNotice.model_validate_json(text)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in some containers
        return "cli"


@calendar_app.command("load")
def load(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="a .json notice or a .csv of date,kind,name rows (docs/calendar-format.md)",
        ),
    ],
    year: Annotated[
        int | None, typer.Option(help="the year the file holds (default: the year of its dates)")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="the notice a CSV file was taken from (default: file name)")
    ] = None,
) -> None:
    """Load one year's holidays and make-up working days; open reports' deadlines follow."""
    try:
        notice = read_notice_file(file, source=source)
    except ValidationError as exc:
        _fail(f"{file} is not a calendar notice: {_validation_message(exc)}")
    except ValueError as exc:
        _fail(f"{file}: {exc}")
    if year is None:
        years = notice.years()
        if len(years) != 1:
            found = ", ".join(map(str, sorted(years))) or "none"
            _fail(f"{file} lists days of these years: {found}; a file holds one year: pass --year")
        (year,) = years
    try:
        with session_scope() as session:
            result = load_year_and_follow(
                session=session,
                year=year,
                notice=notice,
                now=Clock().now(),
                actor=_operator(),
                audit_actor=cli_actor(),
                settings=get_settings(),
            )
    except AppError as exc:
        _fail(exc.message_en)
    typer.echo(
        f"calendar {result.year} loaded: {result.holidays} holiday days, "
        f"{result.makeup_workdays} make-up working days; "
        f"{result.reports_moved} open reports had their due dates moved"
    )


@calendar_app.command("show")
def show(year: Annotated[int, typer.Argument(min=1, max=9999, help="e.g. 2027")]) -> None:
    """List a year's holidays and make-up working days, and how long coverage lasts."""
    with session_scope() as session:
        described = describe_year(session=session, year=year)
        coverage = coverage_status(session=session, now=Clock().now(), settings=get_settings())
    if described.basis == "loaded":
        basis = f"official, loaded by {described.loaded_by} on {described.loaded_at:%Y-%m-%d}"
    elif described.basis == "package":
        basis = "official, from the chinesecalendar package"
    else:
        basis = "NOT official: no notice loaded, Monday to Friday are working days"
    typer.echo(f"{year}: {basis}; {described.working_days} working days")
    if described.source:
        typer.echo(f"source: {described.source}")
    if described.holidays:
        typer.echo("holidays:")
        for period in described.holidays:
            days = (period.end - period.start).days + 1
            typer.echo(f"  {period.start} – {period.end}  {days:>2} days  {period.name}")
    if described.makeup_workdays:
        typer.echo("make-up working days:")
        for makeup in described.makeup_workdays:
            weekday = WEEKDAY_NAMES[makeup.date.weekday()]
            typer.echo(f"  {makeup.date} {weekday:<9} {makeup.name}")
    typer.echo(("warning: " if coverage.warning else "") + coverage.message)
