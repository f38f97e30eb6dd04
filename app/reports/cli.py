"""`zhaocuo import reports FILE`: the national platform's past reports, in one transaction."""

import time
from pathlib import Path

import typer

from app.config import get_settings
from app.db import session_scope
from app.errors import AppError
from app.reports.importer import import_reports
from app.workdays.sources import get_calendar


def reports(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="the platform's report export (id, site_code, ..., created_date, replied_date)",
    ),
) -> None:
    """Import finished reports from the platform's export, with their sites; idempotent."""
    started = time.monotonic()

    def progress(rows: int) -> None:
        typer.echo(f"  {rows:,} rows read ({time.monotonic() - started:.1f} s)", err=True)

    try:
        with session_scope() as session:
            result = import_reports(
                session=session,
                path=file,
                calendar=get_calendar(session),
                settings=get_settings(),
                progress=progress,
            )
    except AppError as exc:
        typer.echo(f"error: {exc.message_en}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"read {result.rows_read:,} rows in {time.monotonic() - started:.1f} s")
    typer.echo(f"reports imported: {result.reports_created:,}")
    typer.echo(f"already imported (left as they were): {result.already_imported:,}")
    typer.echo(
        f"moved to the unit that answered: {result.transferred:,} transferred, "
        f"{result.routed:,} routed"
    )
    typer.echo(f"units created for answering units not in the directory: {result.units_created:,}")
    typer.echo("run `zhaocuo settle` to add them into the settled figures")
