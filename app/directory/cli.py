"""`zhaocuo import …`: load the site directory from CSV files; finding the unit a command names."""

import difflib
from pathlib import Path

import typer
from sqlmodel import Session, select

from app.audit.models import cli_actor
from app.db import session_scope
from app.directory import service
from app.directory.importer import ImportResult, import_sites
from app.directory.models import Unit
from app.errors import AppError

import_app = typer.Typer(help="Load units and sites from CSV files.", no_args_is_help=True)

# Enough to see why rows were left out without flooding the terminal.
SKIPPED_ROWS_SHOWN = 20
FORMAT_LABELS = {
    "plain": "directory CSV (site_code,name,host,owner_unit,parent_unit)",
    "reports": "the platform's reports export (one site per site code)",
}


def unit_or_exit(*, session: Session, ref: str) -> Unit:
    """The unit a command names by id or exact name; otherwise an error and exit status 1."""
    unit = service.find_unit(session=session, ref=ref)
    if unit is None:
        missing = f"no unit with id {ref}" if ref.isdigit() else f"no unit named {ref!r}"
        typer.echo(f"error: {missing}", err=True)
        if not ref.isdigit():
            near = near_unit_names(session=session, name=ref)
            if near:
                typer.echo("did you mean: " + ", ".join(near), err=True)
        raise typer.Exit(1)
    return unit


# Suggestions a mistyped unit name gets: names containing it first, then difflib's nearest.
NEAR_NAMES_MAX = 5
NEAR_NAMES_CUTOFF = 0.5


def near_unit_names(*, session: Session, name: str) -> list[str]:
    """Up to five unit names near a name that matches none: containing it, or close to it."""
    names = list(session.exec(select(Unit.name).order_by(Unit.name)).all())
    text = name.strip()
    containing = [n for n in names if text and (text in n or n in text)]
    close = difflib.get_close_matches(text, names, n=NEAR_NAMES_MAX, cutoff=NEAR_NAMES_CUTOFF)
    return list(dict.fromkeys([*containing, *close]))[:NEAR_NAMES_MAX]


def _print_summary(result: ImportResult) -> None:
    typer.echo(f"read {result.rows_read} rows as {FORMAT_LABELS[result.format]}")
    typer.echo(f"units created: {result.units_created}")
    typer.echo(f"units updated: {result.units_updated}")
    typer.echo(f"sites created: {result.sites_created}")
    typer.echo(f"sites updated: {result.sites_updated}")
    typer.echo(f"routed {result.reports_routed} waiting reports")
    typer.echo(f"rows skipped: {result.rows_skipped}")
    for skipped in result.skipped[:SKIPPED_ROWS_SHOWN]:
        typer.echo(f"  line {skipped.line}: {skipped.reason}")
    if result.rows_skipped > SKIPPED_ROWS_SHOWN:
        typer.echo(f"  … and {result.rows_skipped - SKIPPED_ROWS_SHOWN} more")
    if result.hosts_left_elsewhere:
        typer.echo(
            f"hosts left with sites not in the file: {result.hosts_left_elsewhere} "
            "(inferred from page addresses, so existing assignments win)"
        )


@import_app.command("sites")
def sites(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="a directory CSV (see docs/sites-csv.md) or the platform's reports CSV",
    ),
) -> None:
    """Create or update units and sites from a CSV file; a bad row rejects the whole file."""

    def show_progress(rows_read: int) -> None:
        typer.echo(f"  {rows_read} rows read", err=True)

    try:
        with session_scope() as session:
            result = import_sites(
                session=session, path=file, progress=show_progress, actor=cli_actor()
            )
    except AppError as exc:
        typer.echo(f"import rejected, nothing was changed: {exc.message_en}", err=True)
        raise typer.Exit(1) from exc
    _print_summary(result)
