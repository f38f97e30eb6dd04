"""What the scheduled jobs leave behind for operators: a heartbeat per scheduler process and
the last outcome of each job, both in the database so that every API process (and /readyz,
/metrics) sees the same thing whichever process ran the job."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Text, func
from sqlmodel import Field, Session, SQLModel, col, delete, select

from app.db import UtcDateTime, dialect_insert

# A scheduler silent this long is gone (a restart gets a new instance name): forget it.
FORGET_AFTER = timedelta(days=7)
REASON_LIMIT = 1000


class SchedulerHeartbeat(SQLModel, table=True):
    """One row per scheduler process: when it last ran a job and what that job did."""

    __tablename__ = "scheduler_heartbeat"

    instance: str = Field(primary_key=True, max_length=200, description="host:pid")
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    last_run_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    last_job: str = Field(max_length=50)
    leader: bool = Field(description="whether it ran the job or stood by for another scheduler")
    last_result: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


class JobOutcome(SQLModel, table=True):
    """The last success and the last failure of a job (the nightly SLA report)."""

    __tablename__ = "job_outcome"

    job: str = Field(primary_key=True, max_length=50)
    last_success_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    last_duration_seconds: float | None = None
    last_failure_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    last_failure_reason: str | None = Field(default=None, sa_column=Column(Text()))
    failures: int = Field(default=0, description="failed runs since the job was first recorded")

    @property
    def failing(self) -> bool:
        """Whether the latest run failed."""
        if self.last_failure_at is None:
            return False
        return self.last_success_at is None or self.last_failure_at > self.last_success_at


def beat(
    *,
    session: Session,
    instance: str,
    started_at: datetime,
    job: str,
    leader: bool,
    result: dict[str, Any],
    now: datetime,
) -> None:
    """Record that a scheduler ran a job now (or stood by), and forget long-silent ones."""
    table = SchedulerHeartbeat.__table__
    values = {
        "instance": instance,
        "started_at": started_at,
        "last_run_at": now,
        "last_job": job,
        "leader": leader,
        "last_result": result,
    }
    statement = dialect_insert(session, table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.instance],
        set_={key: statement.excluded[key] for key in values if key != "instance"},
    )
    session.execute(statement)
    session.execute(
        delete(SchedulerHeartbeat).where(col(SchedulerHeartbeat.last_run_at) < now - FORGET_AFTER)
    )


def last_heartbeat_at(*, session: Session) -> datetime | None:
    """When any scheduler last ran a job, or None if none ever has."""
    return session.exec(select(func.max(SchedulerHeartbeat.last_run_at))).one()


def _outcome_for_update(session: Session, job: str) -> JobOutcome:
    statement = dialect_insert(session, JobOutcome.__table__).values(job=job, failures=0)
    session.execute(statement.on_conflict_do_nothing())
    return session.get(JobOutcome, job, with_for_update=True, populate_existing=True)


def record_success(*, session: Session, job: str, at: datetime, duration_seconds: float) -> None:
    """A job's run succeeded at `at` after `duration_seconds`."""
    outcome = _outcome_for_update(session, job)
    outcome.last_success_at = at
    outcome.last_duration_seconds = duration_seconds
    session.add(outcome)
    session.flush()


def record_failure(*, session: Session, job: str, at: datetime, reason: str) -> None:
    """A job's run failed at `at`, for a reason an operator can read."""
    outcome = _outcome_for_update(session, job)
    outcome.last_failure_at = at
    outcome.last_failure_reason = reason[:REASON_LIMIT]
    outcome.failures += 1
    session.add(outcome)
    session.flush()


def job_outcome(*, session: Session, job: str) -> JobOutcome | None:
    return session.get(JobOutcome, job)
