"""What the citizen is told, and when: pure, no I/O (tested without a database).

A report's event tells the citizen something when its kind, read as a string, is one of
`CITIZEN_KINDS`: kinds that other parts of the service add later (a deadline extension
approved, a report reopened) get their message as soon as their events are recorded. Every
message is short Chinese, with the tracking code and the tracking page's address, and never a
contact detail (the address it goes to is read from the report when it is sent).
"""

from dataclasses import dataclass
from typing import Any

from app.reports.models import DECLINE_REASON_LABELS, DeclineReason

SMS_SIGNATURE = "【政府网站找错】"
EMAIL_FOOTER = "此邮件由系统自动发送，请勿直接回复。查询码可查看您的留言，请勿告诉他人。"


@dataclass(frozen=True)
class CitizenText:
    """One message in its two forms: an e-mail (subject and body) and an SMS."""

    subject: str
    email: str
    sms: str


def tracking_url(*, base_url: str, tracking_code: str) -> str:
    """The address of a report's tracking page."""
    return f"{base_url.rstrip('/')}/track/{tracking_code}"


def _decline_reason(data: dict[str, Any]) -> str | None:
    try:
        return DECLINE_REASON_LABELS[DeclineReason(data.get("reason"))]
    except ValueError:
        return None


def _sentences(kind: str, data: dict[str, Any], pause_max_workdays: int) -> tuple[str, str] | None:
    """(subject, what happened) for an event kind, or None when the citizen is not told."""
    match kind:
        case "submitted":
            return "留言已收到", "您的留言已收到"
        case "info_requested":
            return (
                "请补充信息",
                f"办理单位请您补充信息，请在{pause_max_workdays}个工作日内查看并补充",
            )
        case "replied":
            return "留言已答复", "您的留言已有答复"
        case "resolved":
            return "留言已办结", "您的留言已办结，请查看处理结果"
        case "declined":
            reason = _decline_reason(data)
            why = f"（{reason}）" if reason else ""
            return "留言不予受理", f"您的留言不予受理{why}，请查看说明"
        case "extension_approved":
            return "办理期限延长", "办理单位的延期申请已获批准，办结期限依规延长"
        case "reopened":
            return "留言重新办理", "您的留言已重新交办理单位办理"
    return None


CITIZEN_KINDS = frozenset(
    {
        "submitted",
        "info_requested",
        "replied",
        "resolved",
        "declined",
        "extension_approved",
        "reopened",
    }
)


def build_message(
    *,
    kind: str,
    tracking_code: str,
    base_url: str,
    pause_max_workdays: int,
    data: dict[str, Any] | None = None,
) -> CitizenText | None:
    """The message for a report event of this kind (its string value), or None for none."""
    sentences = _sentences(str(kind), data or {}, pause_max_workdays)
    if sentences is None:
        return None
    subject, sentence = sentences
    url = tracking_url(base_url=base_url, tracking_code=tracking_code)
    return CitizenText(
        subject=f"{SMS_SIGNATURE}{subject}（查询码 {tracking_code}）",
        email=(
            f"您好：\n\n{sentence}。\n\n查询码：{tracking_code}\n"
            f"查看办理进展和答复：{url}\n\n{EMAIL_FOOTER}\n"
        ),
        sms=f"{SMS_SIGNATURE}{sentence}，查询码{tracking_code}：{url}",
    )
