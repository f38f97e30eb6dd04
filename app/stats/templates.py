"""Notice templates: per issuing unit, what its notices say besides the figures."""

from datetime import date, datetime

from sqlmodel import Session, col, func, select

from app.auth import Principal, Role
from app.directory import service as directory
from app.directory.models import Unit
from app.errors import Forbidden
from app.stats.models import NoticeTemplate, NoticeTemplateIn, NoticeTemplateOut
from app.stats.notice import DEFAULT_REQUIREMENTS, PROGRAMME, NoticeSetup, date_text
from app.workdays.calendar import WorkCalendar


def _reachable_unit(*, session: Session, principal: Principal, unit_id: int) -> Unit:
    """A unit whose template the caller may read and edit: its supervisors' and admins'."""
    if principal.role == Role.handler:
        raise Forbidden(
            "通报模板只能由上级单位或管理员查看和修改，请使用主管单位或管理员令牌",
            en="notice templates need a supervisor or admin token",
            code="notice_template_forbidden",
        )
    within = None if principal.role == Role.admin else principal.unit_id
    return directory.get_unit_within(session=session, unit_id=unit_id, root_unit_id=within)


def _out(unit: Unit, template: NoticeTemplate | None) -> NoticeTemplateOut:
    values = (template or NoticeTemplate(unit_id=unit.id)).model_dump(
        include=set(NoticeTemplateIn.model_fields)
    )
    return NoticeTemplateOut(
        **values,
        unit_id=unit.id,
        unit_name=unit.name,
        stored=template is not None,
        updated_at=template.updated_at if template is not None else None,
    )


def read_template(*, session: Session, principal: Principal, unit_id: int) -> NoticeTemplateOut:
    """A unit's stored template, or the defaults it would get."""
    unit = _reachable_unit(session=session, principal=principal, unit_id=unit_id)
    return _out(unit, session.get(NoticeTemplate, unit_id))


def put_template(
    *,
    session: Session,
    principal: Principal,
    unit_id: int,
    template_in: NoticeTemplateIn,
    now: datetime,
) -> NoticeTemplateOut:
    """Store a unit's whole template, replacing the previous one."""
    unit = _reachable_unit(session=session, principal=principal, unit_id=unit_id)
    template = session.get(NoticeTemplate, unit_id) or NoticeTemplate(unit_id=unit_id)
    for name, value in template_in.model_dump().items():
        setattr(template, name, value)
    template.updated_at = now
    session.add(template)
    session.flush()
    return _out(unit, template)


def list_templates(
    *, session: Session, principal: Principal, limit: int, offset: int
) -> tuple[list[NoticeTemplateOut], int]:
    """The stored templates of the caller's subtree (every one for admins), by unit id."""
    if principal.role == Role.handler:
        raise Forbidden(
            "通报模板只能由上级单位或管理员查看和修改，请使用主管单位或管理员令牌",
            en="notice templates need a supervisor or admin token",
            code="notice_template_forbidden",
        )
    query = select(NoticeTemplate, Unit).join(Unit, col(Unit.id) == NoticeTemplate.unit_id)
    counted = select(func.count()).select_from(NoticeTemplate)
    if principal.role != Role.admin:
        within = col(NoticeTemplate.unit_id).in_(directory.subtree_ids_query(principal.unit_id))
        query, counted = query.where(within), counted.where(within)
    total = session.exec(counted).one()
    rows = session.exec(
        query.order_by(col(NoticeTemplate.unit_id)).limit(limit).offset(offset)
    ).all()
    return [_out(unit, template) for template, unit in rows], total


def _deadline_text(deadline: date, issued_on: date) -> str:
    if deadline.year == issued_on.year:
        return f"{deadline.month}月{deadline.day}日"
    return date_text(deadline)


def notice_setup(
    *,
    session: Session,
    unit: Unit | None,
    issued_on: date,
    calendar: WorkCalendar,
    document_number: int | None,
    max_names: int,
) -> NoticeSetup:
    """The template of the issuing unit (the scope), filled in for one notice: the 文号 of the
    issue year, the rectification deadline in working days after the issue date."""
    template = session.get(NoticeTemplate, unit.id) if unit is not None else None
    template = template or NoticeTemplate(unit_id=unit.id if unit is not None else 0)
    issuer = template.issuer_name or (unit.name if unit is not None else "")
    number = ""
    if template.document_prefix:
        # A number not yet given leaves room to write it in by hand.
        shown = str(document_number) if document_number else "　"
        number = f"{template.document_prefix}〔{issued_on.year}〕{shown}号"
    deadline = _deadline_text(
        calendar.add_workdays(issued_on, template.rectification_workdays), issued_on
    )
    report_to = template.report_to or issuer or "本单位"
    paragraphs = (
        [line.strip() for line in template.requirements.splitlines() if line.strip()]
        if template.requirements
        else [
            DEFAULT_REQUIREMENTS[0].replace("{programme}", PROGRAMME),
            "请各单位于{deadline}前将整改情况书面报{report_to}。",
        ]
    )
    requirements = [
        paragraph.replace("{deadline}", deadline)
        .replace("{report_to}", report_to)
        .replace("{issuer}", issuer)
        for paragraph in paragraphs
    ]
    return NoticeSetup(
        issuer=issuer,
        document_number=number,
        recipients=template.recipients or "各有关单位：",
        contact_name=template.contact_name,
        contact_phone=template.contact_phone,
        requirements=requirements,
        issued_on=issued_on,
        max_names=max_names,
    )
