"""What keeps scripts off the report form: a signed fill-time stamp, a honeypot, a CAPTCHA.

Everything the form needs to check is signed into the form itself (ZHAOCUO_FORM_SECRET), so
that any API node checks a form another node served, without shared state; only the count of
an address's recent submissions and the CAPTCHA challenges already answered live in the
rate-limit storage, as the API's limit does.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import Settings

HONEYPOT_FIELD = "website"
FORM_TOKEN_FIELD = "form_token"
CAPTCHA_FIELD = "captcha"
CAPTCHA_CHALLENGE_FIELD = "captcha_challenge"
# Letters and digits nobody confuses on a small picture (no 0/O, 1/I/L).
CAPTCHA_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CAPTCHA_VALID_SECONDS = 15 * 60

TOO_FAST = "提交过快：请核对填写的内容后再次点击“提交”。"
FORM_EXPIRED = "表单已失效，请再次点击“提交”。"
HONEYPOT_FILLED = "无法提交：表单中有一个不应填写的隐藏栏目被填写了。"
CAPTCHA_WRONG = "验证码不正确，请按图中字符重新输入（不区分大小写）。"
CAPTCHA_MISSING = "请输入图中的验证码。"
CAPTCHA_USED = "这张验证码图片已经用过，请按新的图片重新输入。"
# Each challenge is answerable once: kept longer than it is valid, so it is never taken twice.
CHALLENGE_ONCE = parse(f"1 per {2 * CAPTCHA_VALID_SECONDS} seconds")


def _signature(secret: str, purpose: str, text: str) -> str:
    message = f"{purpose}:{text}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def form_token(*, settings: Settings, now: datetime) -> str:
    """The signed time the form was served at, for its hidden field."""
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{_signature(settings.form_secret, 'form', stamp)}"


def fill_time_error(*, settings: Settings, token: str | None, now: datetime) -> str | None:
    """Why a form's stamp is refused (forged, or sent too soon after serving), or None."""
    stamp, _, signature = (token or "").partition(".")
    expected = _signature(settings.form_secret, "form", stamp)
    if not stamp.isdigit() or not hmac.compare_digest(signature, expected):
        return FORM_EXPIRED
    if now.timestamp() - int(stamp) < settings.form_min_fill_seconds:
        return TOO_FAST
    return None


def honeypot_error(*, settings: Settings, value: str | None) -> str | None:
    """The hidden field people never see: a script that fills every field fills it."""
    if settings.form_honeypot and value:
        return HONEYPOT_FILLED
    return None


def new_captcha_challenge(*, now: datetime) -> str:
    """A challenge: its time and randomness; its answer is derived from it by the secret."""
    return f"{int(now.timestamp())}.{secrets.token_hex(8)}"


def captcha_answer(*, settings: Settings, challenge: str) -> str:
    """The characters the picture of a challenge shows."""
    digest = hmac.new(
        settings.form_secret.encode(), f"captcha:{challenge}".encode(), hashlib.sha256
    ).digest()
    return "".join(
        CAPTCHA_ALPHABET[byte % len(CAPTCHA_ALPHABET)] for byte in digest[: settings.captcha_length]
    )


def captcha_error(
    *, settings: Settings, challenge: str | None, typed: str | None, now: datetime
) -> str | None:
    """Why a CAPTCHA answer is refused (missing, wrong or stale), or None."""
    if not typed or not typed.strip():
        return CAPTCHA_MISSING
    stamp, _, _ = (challenge or "").partition(".")
    if not stamp.isdigit() or now.timestamp() - int(stamp) > CAPTCHA_VALID_SECONDS:
        return CAPTCHA_WRONG
    expected = captcha_answer(settings=settings, challenge=challenge or "")
    if not hmac.compare_digest(typed.strip().upper(), expected):
        return CAPTCHA_WRONG
    return None


class RecentSubmissions:
    """Form submissions per address within the last hour, to know when to ask a CAPTCHA."""

    def __init__(self, settings: Settings) -> None:
        self._after = settings.captcha_after
        self._limit = parse(f"{max(1, settings.captcha_after)}/hour")
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))

    def captcha_needed(self, address: str) -> bool:
        if self._after == 0:
            return True
        return not self._limiter.test(self._limit, "form_captcha", address)

    def count(self, address: str) -> None:
        self._limiter.hit(self._limit, "form_captcha", address)

    def spend_challenge(self, challenge: str) -> bool:
        """Take a challenge's one answer: False when it was answered before, rightly or not."""
        return self._limiter.hit(CHALLENGE_ONCE, "form_captcha_challenge", challenge)
