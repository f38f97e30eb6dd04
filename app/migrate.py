"""Running and checking the Alembic migrations from inside the application."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(database_url: str | None = None) -> Config:
    """The project's Alembic configuration, found beside the package or in the working folder."""
    candidates = [
        Path(__file__).resolve().parent.parent / "alembic.ini",
        Path.cwd() / "alembic.ini",
    ]
    ini = next((p for p in candidates if p.exists()), None)
    if ini is None:
        raise FileNotFoundError(
            "alembic.ini not found beside the app package or in the working folder"
        )
    config = Config(str(ini))
    config.set_main_option("script_location", str(ini.parent / "migrations"))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
