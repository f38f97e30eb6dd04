"""A small made-up directory for trying the service: one province, two cities, their offices."""

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.audit.models import SYSTEM_ACTOR, Actor
from app.auth import ApiToken, Role, issue_token
from app.directory import service
from app.directory.models import SiteCreate, UnitCreate

PROVINCE = "示范省人民政府办公厅"
EAST_CITY = "东川市人民政府办公室"
WEST_CITY = "西岭市人民政府办公室"

# (unit, parent); the region codes 99xxxx are not real ones, on purpose.
UNITS: list[tuple[str, str | None]] = [
    (PROVINCE, None),
    ("示范省教育厅", PROVINCE),
    ("示范省卫生健康委员会", PROVINCE),
    ("示范省人力资源和社会保障厅", PROVINCE),
    ("示范省市场监督管理局", PROVINCE),
    (EAST_CITY, PROVINCE),
    ("东川市教育局", EAST_CITY),
    ("东川市交通运输局", EAST_CITY),
    ("东川市住房和城乡建设局", EAST_CITY),
    (WEST_CITY, PROVINCE),
    ("西岭市教育局", WEST_CITY),
    ("西岭市医疗保障局", WEST_CITY),
    ("西岭市自然资源局", WEST_CITY),
]

# (site_code, site name, host, owner unit)
SITES: list[tuple[str, str, str, str]] = [
    ("9900000001", "示范省人民政府门户网站", "www.shifan.example.gov.cn", PROVINCE),
    ("99BM000001", "示范省教育厅网站", "jyt.shifan.example.gov.cn", "示范省教育厅"),
    ("99BM000002", "示范省卫生健康委员会网站", "wjw.shifan.example.gov.cn", "示范省卫生健康委员会"),
    (
        "99BM000003",
        "示范省人力资源和社会保障厅网站",
        "rst.shifan.example.gov.cn",
        "示范省人力资源和社会保障厅",
    ),
    (
        "99BM000004",
        "示范省市场监督管理局网站",
        "scjg.shifan.example.gov.cn",
        "示范省市场监督管理局",
    ),
    ("9901000001", "东川市人民政府门户网站", "www.dongchuan.example.gov.cn", EAST_CITY),
    ("9901000002", "东川市教育局网站", "jyj.dongchuan.example.gov.cn", "东川市教育局"),
    ("9901000003", "东川市交通运输局网站", "jtj.dongchuan.example.gov.cn", "东川市交通运输局"),
    (
        "9901000004",
        "东川市住房和城乡建设局网站",
        "zjj.dongchuan.example.gov.cn",
        "东川市住房和城乡建设局",
    ),
    ("9901000005", "东川市政务服务网", "zwfw.dongchuan.example.gov.cn", EAST_CITY),
    ("9902000001", "西岭市人民政府门户网站", "www.xiling.example.gov.cn", WEST_CITY),
    ("9902000002", "西岭市教育局网站", "jyj.xiling.example.gov.cn", "西岭市教育局"),
    ("9902000003", "西岭市医疗保障局网站", "ybj.xiling.example.gov.cn", "西岭市医疗保障局"),
    ("9902000004", "西岭市自然资源局网站", "zrzyj.xiling.example.gov.cn", "西岭市自然资源局"),
    ("9902000005", "西岭市政务服务网", "zwfw.xiling.example.gov.cn", WEST_CITY),
]

DEMO_TOKEN_LABEL = "demo"
DEMO_TOKENS: list[tuple[Role, str]] = [
    (Role.handler, "东川市教育局"),
    (Role.supervisor, EAST_CITY),
    (Role.admin, PROVINCE),
]


@dataclass
class DemoResult:
    units_created: int = 0
    sites_created: int = 0
    tokens: list[tuple[Role, str, str]] = field(default_factory=list)


def load_demo(*, session: Session, actor: Actor = SYSTEM_ACTOR) -> DemoResult:
    """Create the demo directory and demo tokens unless they exist already."""
    result = DemoResult()
    ids: dict[str, int] = {}
    for name, parent in UNITS:
        unit = service.get_unit_by_name(session=session, name=name)
        if unit is None:
            unit_in = UnitCreate(name=name, parent_id=ids[parent] if parent else None)
            unit = service.create_unit(session=session, unit_in=unit_in, actor=actor)
            result.units_created += 1
        ids[name] = unit.id
    for code, site_name, host, owner in SITES:
        if service.get_site_by_code(session=session, site_code=code) is None:
            site_in = SiteCreate(
                site_code=code, name=site_name, owner_unit_id=ids[owner], hosts=[host]
            )
            service.create_site(session=session, site_in=site_in, actor=actor)
            result.sites_created += 1
    already = session.exec(select(ApiToken).where(ApiToken.label == DEMO_TOKEN_LABEL)).first()
    if already is None:
        for role, unit_name in DEMO_TOKENS:
            _, plain = issue_token(
                session=session,
                unit_id=ids[unit_name],
                role=role,
                label=DEMO_TOKEN_LABEL,
                actor=actor,
            )
            result.tokens.append((role, unit_name, plain))
    return result
