"""The `zhaocuo` command for operators."""

import os
import tempfile
from datetime import datetime

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError

from app.audit.models import cli_actor
from app.auth import Role, issue_token, list_tokens, revoke_token
from app.config import get_settings
from app.db import session_scope, utcnow
from app.directory.cli import import_app, unit_or_exit
from app.directory.demo import load_demo
from app.directory.router import TOKEN_LABEL_MAX
from app.errors import AppError
from app.fields import SingleLineText
from app.logs import configure_logging, log_config
from app.metrics import MULTIPROCESS_DIR_VARIABLE
from app.migrate import upgrade_to_head
from app.reports.cli import reports as import_reports_command
from app.stats.cli import notice, settle, sla_report
from app.wiring import install_hooks
from app.workdays.cli import calendar_app

cli = typer.Typer(help="zhaocuo: 我为政府网站找错 service", no_args_is_help=True)
token_app = typer.Typer(help="Issue and revoke unit tokens.", no_args_is_help=True)
cli.add_typer(token_app, name="token")
cli.add_typer(import_app, name="import")
import_app.command("reports")(import_reports_command)
cli.add_typer(calendar_app, name="calendar")


def _configure_logging() -> None:
    """JSON log lines for the service's own loggers and uvicorn's alike (app/logs.py)."""
    settings = get_settings()
    configure_logging(settings.timezone, settings.log_level)


@cli.command()
def migrate() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    upgrade_to_head(get_settings().database_url)
    typer.echo("database at head")


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="API processes; use several on PostgreSQL only"),
) -> None:
    """Serve the HTTP API (and the scheduler too when ZHAOCUO_SCHEDULER=embedded)."""
    _configure_logging()
    settings = get_settings()
    if workers > 1 and settings.is_sqlite:
        raise typer.BadParameter("several workers need PostgreSQL (ZHAOCUO_DATABASE_URL)")
    if workers > 1 and not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        # Each worker counts its own requests; /metrics, answered by any one, sums them all.
        os.environ[MULTIPROCESS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="zhaocuo-metrics-")
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=log_config(settings.timezone, settings.log_level),
    )


@cli.command()
def scheduler(
    metrics_port: int = typer.Option(
        0, help="serve this process's own Prometheus metrics (webhook calls) on this port; 0: off"
    ),
) -> None:
    """Run the scheduled jobs (escalations, webhook delivery, nightly report) until stopped."""
    from prometheus_client import start_http_server

    from app.db import get_engine
    from app.scheduler import run_until_stopped

    _configure_logging()
    if metrics_port:
        start_http_server(metrics_port)
    run_until_stopped(engine=get_engine(), settings=get_settings())


@cli.command()
def demo() -> None:
    """Load the made-up demo directory (one province, two cities) and demo tokens."""
    with session_scope() as session:
        result = load_demo(session=session, actor=cli_actor())
    typer.echo(
        f"demo directory: {result.units_created} units and {result.sites_created} sites added"
    )
    if result.tokens:
        typer.echo("demo tokens (shown once; keep them):")
        for role, unit_name, plain in result.tokens:
            typer.echo(f"  {role.value:<10} {unit_name:<16} {plain}")
    else:
        typer.echo("demo tokens were issued on the first run; `zhaocuo token create` makes more")


@token_app.command("create")
def token_create(
    unit: str = typer.Option(..., help="unit id or exact unit name"),
    role: Role = typer.Option(..., help="handler, supervisor or admin"),
    label: str = typer.Option("", help="what the token is for"),
    holder: str = typer.Option("", help="the person who will hold it"),
    expires_at: str | None = typer.Option(
        None, help="when it stops working, with its offset: 2027-06-30T18:00:00+08:00"
    ),
) -> None:
    """Issue a token; it is printed once and only its hash is stored."""
    # The API's own rules (lengths equal to the columns, no control characters) hold here too.
    for name, value, limit in (("--label", label, TOKEN_LABEL_MAX), ("--holder", holder, 100)):
        try:
            TypeAdapter(SingleLineText(limit)).validate_python(value)
        except ValidationError as exc:
            raise typer.BadParameter(
                f"at most {limit} characters on one line, without control characters",
                param_hint=name,
            ) from exc
    expiry = None
    if expires_at is not None:
        try:
            expiry = datetime.fromisoformat(expires_at)
        except ValueError:
            expiry = None
        if expiry is None or expiry.tzinfo is None:
            raise typer.BadParameter(
                "give a date and time with its offset, e.g. 2027-06-30T18:00:00+08:00",
                param_hint="--expires-at",
            )
    with session_scope() as session:
        found = unit_or_exit(session=session, ref=unit)
        try:
            token, plain = issue_token(
                session=session,
                unit_id=found.id,
                role=role,
                label=label,
                holder=holder,
                expires_at=expiry,
                actor=cli_actor(),
            )
        except AppError as exc:
            typer.echo(f"error: {exc.message_en}", err=True)
            raise typer.Exit(1) from exc
        token_id = token.id
    typer.echo(plain)
    typer.echo(f"token {token_id} for {found.name} as {role.value}", err=True)


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="the token's id (see `token list`)"),
) -> None:
    """Revoke a token at once."""
    with session_scope() as session:
        revoke_token(session=session, token_id=token_id, now=utcnow(), actor=cli_actor())
    typer.echo(f"token {token_id} revoked")


@token_app.command("list")
def token_list() -> None:
    """List tokens without their secret part."""
    with session_scope() as session:
        for token in list_tokens(session=session):
            state = "revoked" if token.revoked_at else "active"
            typer.echo(
                f"{token.id:>5}  {token.prefix}…  unit {token.unit_id:<6} "
                f"{token.role.value:<10} {state:<8} {token.label}"
            )


cli.command("notice")(notice)
cli.command("sla-report")(sla_report)
cli.command("settle")(settle)


def main() -> None:
    install_hooks()
    cli()
