"""The scratch PostgreSQL database a benchmark wipes: checked first, then dropped and created.

A benchmark is pointed at a database by URL, and a slip there (a production URL in the
environment, a typo in --postgres-url) would drop real data. So a scratch database must be on
loopback and have "bench" in its name, or nothing is touched.
"""

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class RefusedDatabase(Exception):
    """The URL does not name a loopback database whose name says it is for benchmarks."""


def scratch_url(url: str | URL) -> URL:
    """The URL parsed, once it is known to name a scratch database this benchmark may drop."""
    parsed = make_url(url)
    if parsed.host not in LOOPBACK_HOSTS:
        raise RefusedDatabase(
            f"refusing to benchmark against PostgreSQL at {parsed.host!r}: the scratch database "
            f"is dropped and created again, so it must be on loopback ({', '.join(LOOPBACK_HOSTS)})"
        )
    if "bench" not in (parsed.database or ""):
        raise RefusedDatabase(
            f"refusing to drop database {parsed.database!r}: the scratch database is dropped and "
            "created again, so its name must contain 'bench'"
        )
    return parsed


def libpq_conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def why_unreachable(url: URL) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(libpq_conninfo(url.set(database="postgres")), connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


def recreate_database(url: URL) -> None:
    """Drop the scratch database if it exists (closing its connections) and create it empty."""
    url = scratch_url(url)
    with psycopg.connect(libpq_conninfo(url.set(database="postgres")), autocommit=True) as conn:
        name = sql.Identifier(url.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
