from datetime import time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every number in the rules is a setting; each reads from ZHAOCUO_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="ZHAOCUO_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./var/zhaocuo.db"
    database_pool_size: int = 10
    # FULL: an acknowledged report survives a power loss; NORMAL is faster and may lose the last.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    timezone: str = "Asia/Shanghai"

    # Deadlines, in working days after the local date of receipt.
    first_reply_workdays: int = Field(2, ge=1)
    resolution_workdays: int = Field(15, ge=1)
    reminder_workdays_before: int = Field(1, ge=0)

    # The citizen rates a closing within N working days of it (app/reports/ratings.py); an
    # open report of the same site, category and page within N days is a possible duplicate.
    rating_window_workdays: int = Field(10, ge=1)
    duplicate_window_days: int = Field(30, ge=0)

    # Notifications go out only inside working hours on working days.
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(18, 0)
    webhook_timeout_seconds: float = 10.0
    webhook_retry_hours: float = 24.0
    # Escalations and webhook delivery (app/sla): retry n waits base·2^(n-1), at most max.
    webhook_backoff_base_seconds: float = Field(30.0, gt=0)
    webhook_backoff_max_seconds: float = Field(3600.0, gt=0)
    # A claimed outbox row is retried by any scheduler once this lease ends (crash recovery);
    # it must outlast the webhook timeout.
    outbox_lease_seconds: float = Field(120.0, gt=0)
    outbox_batch_size: int = Field(100, ge=1)
    sweep_batch_size: int = Field(500, ge=1)

    # Scheduled work: "embedded" runs it inside `zhaocuo serve`, "off" leaves it to
    # a separate `zhaocuo scheduler` process.
    scheduler: Literal["embedded", "off"] = "off"
    sweep_interval_seconds: int = 60
    outbox_interval_seconds: int = 30
    nightly_report_time: time = time(1, 30)
    # /readyz fails when no scheduler has run a job for this long (none deployed, or all dead).
    scheduler_stale_seconds: int = Field(300, ge=1)
    sla_report_dir: str = "./var/sla-reports"

    # Statistics and notices.
    completion_rate_threshold: float = 0.70
    average_handling_threshold: float = 15.0
    ranking_min_valid: int = 5
    # A unit with at least ranking_min_valid ratings is flagged below this satisfaction rate.
    min_satisfaction_rate: float = Field(0.80, ge=0, le=1)
    # Names a notice's list of units prints before "等N家单位（详见附件）".
    notice_max_names: int = 10

    calendar_warning_days: int = 60

    # Log lines at this level and above, as JSON (app/logs.py).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Larger JSON (and other non-multipart) request bodies are refused with 413 unread.
    max_json_body_bytes: int = Field(65536, ge=1)

    # Public submissions per client address; "" disables the limit.
    public_rate_limit: str = "20/minute"
    # Reading a report by tracking code, per client address; generous, but it bounds guessing.
    public_read_rate_limit: str = "120/minute"
    rate_limit_storage: str = "memory://"

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper_case_mode(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> "Settings":
        if self.env == "production" and self.database_url.startswith("sqlite:///./"):
            raise ValueError(
                "ZHAOCUO_DATABASE_URL must be set explicitly in production "
                "(an absolute SQLite path or a postgresql+psycopg:// URL)"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_webhook_call(self) -> "Settings":
        # A claimed outbox row must still be ours when its webhook call times out.
        if self.outbox_lease_seconds < 2 * self.webhook_timeout_seconds:
            raise ValueError(
                "ZHAOCUO_OUTBOX_LEASE_SECONDS must be at least twice "
                "ZHAOCUO_WEBHOOK_TIMEOUT_SECONDS"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
