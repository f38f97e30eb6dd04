import json
from datetime import time
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Room in a multipart body for the text fields and the part headers around the files.
MULTIPART_MARGIN_BYTES = 256 * 1024
# Anyone can read this one in the source: production refuses it.
DEVELOPMENT_FORM_SECRET = "development-form-secret"


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
    # Deadline extensions (延期): working days in total per clock (app/reports/extensions.py).
    max_extension_workdays: int = Field(10, ge=1, le=60)

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

    # Bounded pauses (awaiting the citizen): questions per clock, and the working days a pause
    # lasts without a supplement before the clocks resume by themselves.
    max_info_requests: int = Field(2, ge=1)
    pause_max_workdays: int = Field(5, ge=1)

    # Word back to the citizen (app/sla/citizen.py). The tracking page is
    # {public_base_url}/track/{code}. A channel left unset queues nothing.
    public_base_url: str = "http://localhost:8000"
    # smtp://user:pass@host:587 (STARTTLS unless smtp_starttls is off) or smtps://…:465.
    smtp_url: str | None = None
    smtp_sender: str | None = None
    smtp_starttls: bool = True
    # A PEM file of the CA that signed the SMTP server's certificate (a private relay);
    # unset: the system's CAs.
    smtp_ca_file: str | None = None
    # POSTed JSON, signed like the webhooks with this secret (README: "SMS gateway").
    sms_gateway_url: str | None = None
    sms_gateway_secret: str | None = None
    # No SMS between these local times (held until the end); e-mail goes any time.
    sms_quiet_start: time = time(21, 0)
    sms_quiet_end: time = time(8, 0)

    # Log lines at this level and above, as JSON (app/logs.py).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Larger JSON (and other non-multipart) request bodies are refused with 413 unread.
    max_json_body_bytes: int = Field(65536, ge=1)

    # Public submissions per client address; "" disables the limit.
    public_rate_limit: str = "20/minute"
    # Reading a report by tracking code, per client address; generous, but it bounds guessing.
    public_read_rate_limit: str = "120/minute"
    rate_limit_storage: str = "memory://"

    # Screenshots attached to a report (app/reports/attachments.py).
    max_attachments: int = Field(3, ge=0)
    max_attachment_bytes: int = Field(5 * 1024 * 1024, ge=1)
    # Decoding stops at the header above this many pixels (decompression bombs).
    max_attachment_pixels: int = Field(40_000_000, ge=1)
    attachment_max_side: int = Field(2048, ge=16)
    # Origins (https://example.gov.cn) whose pages may call the JSON API; none: no CORS at all.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # The citizens' report form (app/web/guards.py). The form carries a timestamp signed with
    # this secret: a submission sooner than form_min_fill_seconds after the form was served is
    # refused (scripts fill forms instantly). A hidden field a person never fills catches the
    # rest; after captcha_after submissions from one address within an hour a picture CAPTCHA
    # drawn by the server is asked for (0: always).
    form_secret: str = DEVELOPMENT_FORM_SECRET
    form_honeypot: bool = True
    form_min_fill_seconds: float = Field(3.0, ge=0)
    captcha_after: int = Field(5, ge=0)
    captcha_length: int = Field(4, ge=3, le=8)

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper_case_mode(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        # A comma-separated list or a JSON list, as the environment gives it.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_without_slash(cls, value: list[str]) -> list[str]:
        return [origin.rstrip("/") for origin in value]

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
        if self.env == "production" and (
            self.form_secret == DEVELOPMENT_FORM_SECRET or len(self.form_secret) < 16
        ):
            raise ValueError(
                "ZHAOCUO_FORM_SECRET must be set in production to a random text of at least "
                "16 characters (e.g. `openssl rand -hex 32`): it signs the report form"
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

    @model_validator(mode="after")
    def _citizen_channels_complete(self) -> "Settings":
        if self.smtp_url:
            if not self.smtp_url.startswith(("smtp://", "smtps://")):
                raise ValueError("ZHAOCUO_SMTP_URL must start with smtp:// or smtps://")
            if not self.smtp_sender:
                raise ValueError("ZHAOCUO_SMTP_SENDER must be set with ZHAOCUO_SMTP_URL")
        if self.sms_gateway_url and not self.sms_gateway_secret:
            raise ValueError(
                "ZHAOCUO_SMS_GATEWAY_SECRET must be set with ZHAOCUO_SMS_GATEWAY_URL "
                "(requests to the gateway are signed with it)"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def max_multipart_body_bytes(self) -> int:
        """A multipart body's cap: every screenshot at its largest, the fields and the framing."""
        return self.max_attachments * self.max_attachment_bytes + MULTIPART_MARGIN_BYTES

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
