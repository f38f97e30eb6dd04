"""The directory service: site codes and hosts, the unit tree, routing a page to its site."""

import re

import pytest
from pydantic import ValidationError
from sqlalchemy import event
from sqlmodel import Session

from app.directory import service
from app.directory.models import SiteCreate, SiteStatus, SiteUpdate, UnitCreate, UnitUpdate
from app.errors import Conflict, NotFound, Unprocessable
from tests.conftest import Directory


@pytest.mark.parametrize("code", ["6108000003", "bm07000001", "BT00000001", "12BM010001"])
def test_real_site_code_shapes_are_valid(code: str):
    assert service.is_valid_site_code(code) is True


@pytest.mark.parametrize(
    "code",
    [
        "610800000",  # 9 digits
        "61080000031",  # 11 digits
        "BM07000001",  # the State Council prefix is lower case
        "bt00000001",  # the Corps prefix is upper case
        "12bm010001",
        "123BM01001",
        "bm0700000a",
        " 6108000003",
        "6108000003\n",
        "",
    ],
)
def test_other_strings_are_not_site_codes(code: str):
    assert service.is_valid_site_code(code) is False


def test_check_site_code_explains_the_shapes():
    service.check_site_code("bm07000001")
    with pytest.raises(ValueError) as raised:
        service.check_site_code("A1234")
    assert str(raised.value) == f"'A1234' is not a site code: {service.SITE_CODE_HINT}"


def test_normalise_hosts_drops_repeats_and_names_the_first_bad_one():
    hosts = [" WWW.Example.gov.cn ", "www.example.gov.cn.", "jyj.example.gov.cn:8080"]
    assert service.normalise_hosts(hosts) == ["www.example.gov.cn", "jyj.example.gov.cn"]
    with pytest.raises(ValueError) as raised:
        service.normalise_hosts(["ok.example.gov.cn", "b_c.example", "also bad"])
    assert str(raised.value) == "'b_c.example' is not a host name such as www.example.gov.cn"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("HTTP://WWW.Example.GOV.cn:8080/a?b=c", "www.example.gov.cn"),
        ("https://www.example.gov.cn./", "www.example.gov.cn"),
        ("https://user:secret@jyj.example.gov.cn/x", "jyj.example.gov.cn"),
        ("www.example.gov.cn/no-scheme", None),
        ("http:/www.example.gov.cn/", None),
        ("http://[broken/", None),
        ("", None),
    ],
)
def test_host_of_url(url: str, host: str | None):
    assert service.host_of_url(url) == host


def test_subtree_and_ancestors_follow_the_parent_links(session: Session, directory: Directory):
    d = directory
    everyone = {d.province, d.city_a, d.dept_a1, d.city_b, d.dept_b1}

    assert service.subtree_ids(session=session, root_unit_id=d.province) == everyone
    assert service.subtree_ids(session=session, root_unit_id=d.city_a) == {d.city_a, d.dept_a1}
    assert service.subtree_ids(session=session, root_unit_id=d.dept_b1) == {d.dept_b1}
    assert service.ancestor_ids(session=session, unit_id=d.dept_a1) == [d.city_a, d.province]
    assert service.ancestor_ids(session=session, unit_id=d.province) == []
    assert service.is_within(session=session, unit_id=d.dept_a1, root_unit_id=d.province)
    assert service.is_within(session=session, unit_id=d.dept_a1, root_unit_id=d.dept_a1)
    assert not service.is_within(session=session, unit_id=d.dept_a1, root_unit_id=d.city_b)
    assert not service.is_within(session=session, unit_id=d.city_a, root_unit_id=d.dept_a1)


def test_lists_are_limited_to_a_subtree(session: Session, directory: Directory):
    city_a_units = service.list_units(session=session, within=directory.city_a)
    city_b_sites = service.list_sites(session=session, within=directory.city_b)

    assert [u.name for u in city_a_units] == sorted(["甲市人民政府办公室", "甲市教育局"])
    assert [s.site_code for s in city_b_sites] == [directory.site_b1]
    assert len(service.list_units(session=session)) == 5


def test_public_site_list_matches_one_site_at_a_time_in_three_queries(
    session: Session, directory: Directory
):
    for number in range(3, 8):
        hosts = [f"h{number}b.example.gov.cn", f"h{number}a.example.gov.cn"]
        service.create_site(
            session=session, site_in=new_site(directory, f"990200000{number}", *hosts)
        )
    service.create_site(session=session, site_in=new_site(directory, "9902000009"))
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    for within in (None, directory.city_b, directory.city_a, directory.dept_a1):
        expected = [
            service.to_public(session=session, site=site)
            for site in service.list_sites(session=session, within=within)
        ]
        statements.clear()
        event.listen(session.connection().engine, "before_cursor_execute", record)
        try:
            listed, total = service.page_sites_public(
                session=session, within=within, limit=500, offset=0
            )
        finally:
            event.remove(session.connection().engine, "before_cursor_execute", record)
        assert listed == expected
        assert total == len(expected)
        # the count, the page, the page's hosts
        assert len(statements) == 3
    everything, _ = service.page_sites_public(session=session, within=None, limit=500, offset=0)
    assert len(everything) == 8
    hosts_by_code = {site.site_code: site.hosts for site in everything}
    assert hosts_by_code["9902000009"] == []
    assert hosts_by_code["9902000003"] == ["h3a.example.gov.cn", "h3b.example.gov.cn"]


def test_find_unit_by_id_or_exact_name(session: Session, directory: Directory):
    by_id = service.find_unit(session=session, ref=str(directory.dept_a1))
    by_name = service.find_unit(session=session, ref="甲市教育局")

    assert by_id is not None and by_id.id == directory.dept_a1
    assert by_name is not None and by_name.id == directory.dept_a1
    assert service.find_unit(session=session, ref="999999") is None
    assert service.find_unit(session=session, ref="甲市") is None


@pytest.mark.parametrize(
    ("unit", "new_parent"),
    [
        ("province", "dept_a1"),  # under its grandchild
        ("city_a", "dept_a1"),  # under its child
        ("city_a", "city_a"),  # under itself
    ],
)
def test_parent_cycles_are_refused(
    session: Session, directory: Directory, unit: str, new_parent: str
):
    unit_id, parent_id = getattr(directory, unit), getattr(directory, new_parent)

    with pytest.raises(Conflict, match="单位不能挂在自身或其下级单位之下"):
        service.update_unit(
            session=session, unit_id=unit_id, unit_in=UnitUpdate(parent_id=parent_id)
        )
    session.rollback()

    assert service.ancestor_ids(session=session, unit_id=directory.dept_a1) == [
        directory.city_a,
        directory.province,
    ]


def test_a_unit_can_move_to_another_branch(session: Session, directory: Directory):
    service.update_unit(
        session=session, unit_id=directory.city_b, unit_in=UnitUpdate(parent_id=directory.city_a)
    )

    assert service.ancestor_ids(session=session, unit_id=directory.dept_b1) == [
        directory.city_b,
        directory.city_a,
        directory.province,
    ]
    assert service.subtree_ids(session=session, root_unit_id=directory.city_a) == {
        directory.city_a,
        directory.dept_a1,
        directory.city_b,
        directory.dept_b1,
    }


def test_unit_names_are_unique_and_parents_must_exist(session: Session, directory: Directory):
    with pytest.raises(Conflict, match="名为“甲市教育局”的单位已存在"):
        service.create_unit(session=session, unit_in=UnitCreate(name="甲市教育局"))
    with pytest.raises(Conflict, match="名为“乙市教育局”的单位已存在"):
        service.update_unit(
            session=session, unit_id=directory.dept_a1, unit_in=UnitUpdate(name="乙市教育局")
        )
    with pytest.raises(NotFound, match="单位 999999 不存在"):
        service.create_unit(
            session=session, unit_in=UnitCreate(name="丙市教育局", parent_id=999999)
        )


def new_site(directory: Directory, code: str, *hosts: str) -> SiteCreate:
    return SiteCreate(
        site_code=code, name=f"网站{code}", owner_unit_id=directory.dept_b1, hosts=list(hosts)
    )


def test_site_hosts_are_normalised_and_checked(session: Session, directory: Directory):
    site = service.create_site(
        session=session,
        site_in=new_site(directory, "9902000005", "WWW.B.example.gov.cn", "www.b.example.gov.cn."),
    )
    assert service.site_hosts(session=session, site_id=site.id) == ["www.b.example.gov.cn"]

    with pytest.raises(
        Unprocessable,
        match=re.escape("网站域名格式不对：请写成 www.example.gov.cn 这样的主机名（'b_c.example'"),
    ):
        service.create_site(
            session=session, site_in=new_site(directory, "9902000006", "b_c.example")
        )
    with pytest.raises(Conflict, match=re.escape(f"域名 {directory.host_a1} 已属于另一个网站")):
        service.create_site(
            session=session, site_in=new_site(directory, "9902000007", directory.host_a1)
        )


def test_site_codes_are_checked_and_unique(session: Session, directory: Directory):
    with pytest.raises(ValidationError, match="is not a site code"):
        new_site(directory, "990200001")
    with pytest.raises(Conflict, match=f"网站标识码 {directory.site_a1} 已登记"):
        service.create_site(session=session, site_in=new_site(directory, directory.site_a1))


def test_replacing_hosts_releases_the_old_ones(session: Session, directory: Directory):
    site_a1 = service.get_site_by_code(session=session, site_code=directory.site_a1)
    service.update_site(
        session=session, site_id=site_a1.id, site_in=SiteUpdate(hosts=["jyj2.jia.example.gov.cn"])
    )
    other = service.create_site(
        session=session, site_in=new_site(directory, "9902000008", directory.host_a1)
    )

    assert service.site_hosts(session=session, site_id=site_a1.id) == ["jyj2.jia.example.gov.cn"]
    assert service.site_hosts(session=session, site_id=other.id) == [directory.host_a1]


def found(session: Session, site_code: str | None, page_url: str) -> str | None:
    site = service.find_site_for(session=session, site_code=site_code, page_url=page_url)
    return site.site_code if site else None


def test_routing_by_site_code_then_by_host(session: Session, directory: Directory):
    d = directory
    # the site code wins over the page's host
    assert found(session, d.site_b1, f"https://{d.host_a1}/page") == d.site_b1
    # no code, or a code nobody registered: the host decides
    assert found(session, None, f"https://{d.host_a1}/page") == d.site_a1
    assert found(session, "9999999999", f"http://{d.host_a1.upper()}:8080/x") == d.site_a1
    # the www. form of a registered host, and the other way round
    assert found(session, None, f"https://www.{d.host_a1}/") == d.site_a1
    # nothing known
    assert found(session, None, "https://unknown.example.gov.cn/") is None
    assert found(session, None, "not a url") is None


def test_an_exact_host_beats_its_www_variant(session: Session, directory: Directory):
    service.create_site(
        session=session, site_in=new_site(directory, "9902000010", "example.gov.cn")
    )
    service.create_site(
        session=session, site_in=new_site(directory, "9902000011", "www.example.gov.cn")
    )

    assert found(session, None, "https://example.gov.cn/a") == "9902000010"
    assert found(session, None, "https://www.example.gov.cn/a") == "9902000011"


def test_closed_sites_receive_no_reports(session: Session, directory: Directory):
    site_a1 = service.get_site_by_code(session=session, site_code=directory.site_a1)
    service.update_site(
        session=session, site_id=site_a1.id, site_in=SiteUpdate(status=SiteStatus.closed)
    )

    assert found(session, directory.site_a1, "https://unknown.example.gov.cn/") is None
    assert found(session, None, f"https://{directory.host_a1}/") is None
    # a closed site's code with the page of an active site goes to the active one
    service.update_site(
        session=session,
        site_id=service.get_site_by_code(session=session, site_code=directory.site_b1).id,
        site_in=SiteUpdate(hosts=["jyj.yi.example.gov.cn"]),
    )
    assert found(session, directory.site_a1, "https://jyj.yi.example.gov.cn/") == directory.site_b1
