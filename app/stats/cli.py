"""`zhaocuo notice`, `zhaocuo sla-report` and `zhaocuo settle`: the operators' way in."""

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from app.clock import Clock
from app.config import get_settings
from app.db import get_engine, session_scope
from app.directory.cli import unit_or_exit
from app.errors import AppError
from app.reports.clocks import local_date
from app.stats import jobs, service
from app.stats.notice import NoticeFormat

TEXT_FORMATS = (NoticeFormat.md, NoticeFormat.json)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def notice(
    period: Annotated[str, typer.Argument(help="2026-04, 2026-Q3, 2026 or 2026-04-01..2026-04-30")],
    format: Annotated[
        NoticeFormat, typer.Option("--format", help="md, csv, xlsx, json, docx or pdf")
    ] = NoticeFormat.md,
    unit: Annotated[
        str | None, typer.Option(help="unit id or exact name whose subtree to cover; default all")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="cut-off, local time: a date is the end of that day (2026-05-06), or a time "
            "(2026-05-06T10:00:00); default now"
        ),
    ] = None,
    issued_on: Annotated[
        datetime | None,
        typer.Option(
            "--issued-on",
            formats=["%Y-%m-%d"],
            help="成文日期 (default today): the deadline counts from it",
        ),
    ] = None,
    number: Annotated[
        int | None, typer.Option(min=1, help="the number in the 发文字号 (〔2026〕5号)")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="file to write; default stdout for md/json"),
    ] = None,
) -> None:
    """Draft the notice (通报) of a period: overall figures, shortfalls, the annex per unit."""
    settings = get_settings()
    now = Clock().now()
    try:
        with session_scope() as session:
            rendered = service.period_notice(
                session=session,
                period=service.parse_period_or_422(period),
                as_of=service.cutoff(as_of=service.parse_cutoff(as_of), now=now, settings=settings),
                scope=unit_or_exit(session=session, ref=unit) if unit else None,
                settings=settings,
                notice_format=format,
                issued_on=issued_on.date() if issued_on else local_date(now, settings.tz),
                document_number=number,
            )
    except AppError as exc:
        _fail(exc.message_en)
    if output is None and format in TEXT_FORMATS:
        sys.stdout.buffer.write(rendered.content)
        sys.stdout.flush()
        return
    path = output or Path(rendered.filename)
    path.write_bytes(rendered.content)
    typer.echo(f"notice written to {path}")


def sla_report(
    report_date: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="the day to report on (a day already over); default every missing day",
        ),
    ] = None,
) -> None:
    """Produce the nightly SLA report by hand: one day, or every missing day up to yesterday."""
    settings = get_settings()
    engine = get_engine()
    now = Clock().now()
    if report_date is None:
        result = jobs.run_nightly_report(engine=engine, now=now, settings=settings)
        missing = len(result.produced) + len(result.by_another_scheduler) + len(result.failed)
        if not result.ok:
            _fail(
                f"{len(result.failed)} of {missing} missing day(s) failed and stay pending: "
                f"{result.failure_reason()}"
            )
        typer.echo(f"{missing} day(s) were missing; reports are in {settings.sla_report_dir}")
        return
    day = report_date.date()
    if day >= local_date(now, settings.tz):
        _fail(f"{day.isoformat()} is not over yet: a day is reported on once it has ended")
    try:
        produced = jobs.produce_one_day(engine=engine, report_date=day, now=now, settings=settings)
    except Exception as exc:
        _fail(f"the SLA report for {day.isoformat()} failed: {type(exc).__name__}: {exc}")
    if produced:
        typer.echo(f"SLA report for {day.isoformat()} produced in {settings.sla_report_dir}")
        return
    # Already stored: the figures stay as they were; the files are written again from them.
    with session_scope(engine) as session:
        report = service.sla_report(session=session, report_date=day, scope=None, settings=settings)
    jobs.write_sla_files(report=report, directory=Path(settings.sla_report_dir))
    typer.echo(
        f"SLA report for {day.isoformat()} already existed; its files were written again "
        f"in {settings.sla_report_dir}"
    )


def settle() -> None:
    """Add the reports closed since the last run into the figures statistics read.

    The scheduler does this each night; by hand it helps after a bulk import.
    """
    result = jobs.run_settle(engine=get_engine(), now=Clock().now(), settings=get_settings())
    typer.echo(f"{result.reports} closed report(s) settled, received in {result.months} month(s)")
