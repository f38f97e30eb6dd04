"""docker/entrypoint.sh: the single SQLite container runs the scheduler embedded."""

import os
import subprocess
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[1] / "docker" / "entrypoint.sh"


def scheduler_setting(**env: str) -> str | None:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ZHAOCUO_")}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "sh", "-c", 'echo "${ZHAOCUO_SCHEDULER-unset}"'],
        env={**clean, "ZHAOCUO_MIGRATE_ON_START": "0", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ZHAOCUO_DATABASE_URL": "sqlite:////data/zhaocuo.db"}, "embedded"),
        (
            {"ZHAOCUO_DATABASE_URL": "sqlite:////data/zhaocuo.db", "ZHAOCUO_SCHEDULER": "off"},
            "off",
        ),
        ({"ZHAOCUO_DATABASE_URL": "postgresql+psycopg://zc@db/zhaocuo"}, "unset"),
    ],
)
def test_the_scheduler_is_embedded_only_on_the_sqlite_file(env, expected):
    assert scheduler_setting(**env) == expected
