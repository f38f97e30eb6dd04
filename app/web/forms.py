"""The report form's words: Chinese errors for each field, and what the form says about a site."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, or_, select

from app.directory.models import Site, SiteStatus
from app.directory.routing import match_site
from app.directory.service import get_site_by_code, is_valid_site_code
from app.reports.models import CATEGORY_LABELS
from app.reports.schemas import DESCRIPTION_MAX, DESCRIPTION_MIN

FORM_FIELDS = ("site_code", "page_url", "category", "description", "name", "phone", "email")
SITE_SEARCH_LIMIT = 20

CATEGORY_CHOICES = [(int(code), label) for code, label in CATEGORY_LABELS.items()]
FILES_AGAIN = "出于安全原因，已选择的截图没有保留，请重新选择。"
SITE_CODE_ERROR = (
    "网站标识码格式不对：应为10位数字（如 6108000003），或 bm、BT 加8位数字，"
    "或2位数字加 BM 加6位数字（如 12BM010001）；不知道可以不填。"
)
UNKNOWN_SITE = "网站标识码“{code}”不在网站名录中。您仍可提交，留言将由运维人员核实后转交相应单位。"
NO_SITE_FOUND = "未能根据网址找到对应的网站。您仍可提交，留言将由运维人员核实后转交相应单位。"
CLOSED_SITE = "该网站已关停。您仍可提交，留言将转交其主办单位办理。"
OTHER_SITE_HOST = (
    "您填写的页面地址属于另一个网站“{name}”（网站标识码 {code}）。您仍可提交，"
    "单位和运维人员会核实留言属于哪个网站。"
)


def _length_error(error: dict[str, Any], what: str) -> str:
    given = error.get("input")
    length = len(given.strip()) if isinstance(given, str) else 0
    context = error.get("ctx") or {}
    if error["type"] == "string_too_long":
        return f"{what}最多{context.get('max_length')}个字（您写了{length}个字）。"
    return f"{what}至少{context.get('min_length', 1)}个字。"


def field_message(name: str, error: dict[str, Any]) -> str:
    """The Chinese sentence shown next to a field the service refused."""
    kind = error["type"]
    if name == "site_code":
        return SITE_CODE_ERROR
    if name == "page_url":
        if kind == "missing" or not str(error.get("input") or "").strip():
            return "请填写出错页面的网址。"
        if kind == "string_too_long":
            return _length_error(error, "网址")
        return "网址应以 http:// 或 https:// 开头，例如 https://www.example.gov.cn/index.html。"
    if name == "category":
        return "请选择问题类型。"
    if name == "description":
        given = error.get("input")
        length = len(given.strip()) if isinstance(given, str) else 0
        if kind == "string_too_long":
            return f"问题描述最多{DESCRIPTION_MAX}个字（您写了{length}个字）。"
        return f"请用{DESCRIPTION_MIN}至{DESCRIPTION_MAX}个字描述问题（您写了{length}个字）。"
    if name == "name":
        return _length_error(error, "姓名")
    if name == "phone":
        return "请填写11位手机号（如 13812345678）或固定电话（如 010-12345678），也可以不填。"
    if name == "email":
        return "电子邮箱格式不对，例如 zhang@example.com；也可以不填。"
    return "这一项填写有误。"


def field_errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    """The first error of each form field, in Chinese, keyed by field name."""
    messages: dict[str, str] = {}
    for error in errors:
        location = error.get("loc") or ()
        name = str(location[1]) if len(location) > 1 else ""
        if name in FORM_FIELDS and name not in messages:
            messages[name] = field_message(name, error)
    return messages


@dataclass
class SiteContext:
    """What the form says about the site a badge link names: its name, its unit, or why not."""

    site_name: str | None = None
    site_code: str | None = None
    owner_unit_name: str | None = None
    notices: list[str] = field(default_factory=list)


def site_context(*, session: Session, site_code: str, page_url: str) -> SiteContext:
    """The site, owner unit and any warning for a site code and page URL as the link gave them."""
    code = site_code.strip()
    if code and not is_valid_site_code(code):
        return SiteContext(notices=[SITE_CODE_ERROR])
    if not code and not page_url.strip():
        return SiteContext()
    match = match_site(session=session, site_code=code or None, page_url=page_url.strip())
    notices = []
    if match.site is None:
        notices.append(UNKNOWN_SITE.format(code=code) if code else NO_SITE_FOUND)
        return SiteContext(notices=notices)
    if match.closed:
        notices.append(CLOSED_SITE)
    if match.host_site_code:
        other = get_site_by_code(session=session, site_code=match.host_site_code)
        notices.append(
            OTHER_SITE_HOST.format(name=other.name if other else "", code=match.host_site_code)
        )
    return SiteContext(
        site_name=match.site.name,
        site_code=match.site.site_code,
        owner_unit_name=match.site.owner_name,
        notices=notices,
    )


def search_sites(*, session: Session, text: str) -> list[Site]:
    """Open sites whose name contains the text or whose code starts with it."""
    text = text.strip()[:100]
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(Site)
        .where(Site.status == SiteStatus.active)
        .where(
            or_(
                col(Site.name).like(f"%{escaped}%", escape="\\"),
                col(Site.site_code).like(f"{escaped}%", escape="\\"),
            )
        )
        .order_by(Site.site_code)
        .limit(SITE_SEARCH_LIMIT)
    )
    return list(session.exec(query).all())
