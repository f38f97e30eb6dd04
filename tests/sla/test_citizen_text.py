"""What the citizen is told, built without a database: every kind, exact texts."""

import pytest

from app.sla.citizen_text import CITIZEN_KINDS, build_message, tracking_url

CODE = "ABCDEFGH23456789"
BASE = "https://zhaocuo.example.gov.cn/"
URL = f"https://zhaocuo.example.gov.cn/track/{CODE}"


def message(kind: str, **data):
    return build_message(
        kind=kind, tracking_code=CODE, base_url=BASE, pause_max_workdays=5, data=data
    )


def test_the_tracking_page_address_ignores_a_trailing_slash():
    assert tracking_url(base_url=BASE, tracking_code=CODE) == URL
    assert tracking_url(base_url=BASE.rstrip("/"), tracking_code=CODE) == URL


@pytest.mark.parametrize(
    ("kind", "data", "subject", "sms"),
    [
        ("submitted", {}, "留言已收到", "您的留言已收到"),
        ("info_requested", {}, "请补充信息", "办理单位请您补充信息，请在5个工作日内查看并补充"),
        ("replied", {"text": "已转技术部门核实。"}, "留言已答复", "您的留言已有答复"),
        ("resolved", {"verdict": "confirmed"}, "留言已办结", "您的留言已办结，请查看处理结果"),
        (
            "declined",
            {"reason": "insufficient_info"},
            "留言不予受理",
            "您的留言不予受理（信息不足），请查看说明",
        ),
        ("declined", {"reason": "no-such-reason"}, "留言不予受理", "您的留言不予受理，请查看说明"),
        # Kinds other parts of the service add: told by their string value alone.
        (
            "extension_approved",
            {"workdays": 5},
            "办理期限延长",
            "办理单位的延期申请已获批准，办结期限依规延长",
        ),
        ("reopened", {}, "留言重新办理", "您的留言已重新交办理单位办理"),
    ],
)
def test_each_kind_the_citizen_hears_of(kind, data, subject, sms):
    built = message(kind, **data)

    assert built.subject == f"【政府网站找错】{subject}（查询码 {CODE}）"
    assert built.sms == f"【政府网站找错】{sms}，查询码{CODE}：{URL}"
    assert built.email == (
        f"您好：\n\n{sms}。\n\n查询码：{CODE}\n查看办理进展和答复：{URL}\n\n"
        "此邮件由系统自动发送，请勿直接回复。查询码可查看您的留言，请勿告诉他人。\n"
    )


def test_the_unit_s_texts_and_notes_never_reach_the_message():
    built = message("replied", text="内部说明：联系人王五 13900001111")

    assert "王五" not in built.email + built.sms + built.subject


@pytest.mark.parametrize(
    "kind",
    [
        "routed",
        "transferred",
        "supplemented",
        "reminder",
        "urge",
        "supervise",
        "deadlines_recomputed",
        "pause_expired",
        "something_new",
    ],
)
def test_other_kinds_tell_the_citizen_nothing(kind):
    assert message(kind) is None


def test_the_kinds_told_are_exactly_those_with_a_message():
    assert {kind for kind in CITIZEN_KINDS if message(kind) is not None} == CITIZEN_KINDS
    assert {
        "submitted",
        "info_requested",
        "replied",
        "resolved",
        "declined",
        "extension_approved",
        "reopened",
    } == CITIZEN_KINDS


def test_an_sms_fits_two_segments():
    # 70 characters make one Chinese SMS segment, 67 each when concatenated.
    assert max(len(message(kind).sms) for kind in CITIZEN_KINDS) <= 2 * 67
