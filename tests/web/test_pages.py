"""The citizens' pages over HTTP: exact sentences, kept input, guards, tracking, answers."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.directory.models import SiteUpdate
from app.directory.service import get_site_by_code, update_site
from app.main import create_app
from app.web import guards
from tests.conftest import Directory, local, report_id
from tests.reports.helpers import stored
from tests.reports.images import png
from tests.web.helpers import TYPED, field_error, hidden, post_form, tracking_code

FILES_AGAIN = "出于安全原因，已选择的截图没有保留，请重新选择。"


def unit_act(client, directory, code, engine, action, body):
    response = client.post(
        f"/api/v1/unit/reports/{report_id(engine, code)}/{action}",
        json=body,
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text


def test_home_explains_and_finds_a_site_by_name_or_code(client, directory: Directory) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert '<html lang="zh-CN">' in home.text
    for way in ('href="/jiucuo"', 'href="/track"', 'href="/answered"'):
        assert way in home.text
    by_name = client.get("/", params={"q": "乙市教育"})
    assert '<a href="/jiucuo?site_code=99BM000009">乙市教育局网站</a>' in by_name.text
    assert "甲市教育局网站" not in by_name.text
    by_code = client.get("/", params={"q": "9901"})
    assert '<a href="/jiucuo?site_code=9901000002">甲市教育局网站</a>' in by_code.text
    none = client.get("/", params={"q": "%_不存在"})
    assert "没有找到名称或标识码含“%_不存在”的网站。" in none.text


@pytest.mark.parametrize("path", ["/jiucuo", "/exposure/jiucuo.html"])
def test_the_badge_link_prefills_the_site_and_its_owner_unit(
    client, directory: Directory, path: str
) -> None:
    page = client.get(
        path, params={"site_code": "9901000002", "url": "http://jyj.jia.example.gov.cn/a.html"}
    )
    assert page.status_code == 200
    assert "网站：<strong>甲市教育局网站</strong>（网站标识码 9901000002）" in page.text
    assert "您的留言将交给主办单位：<strong>甲市教育局</strong>" in page.text
    assert 'name="site_code" value="9901000002"' in page.text
    assert 'value="http://jyj.jia.example.gov.cn/a.html"' in page.text
    for code, label in [(0, "内容无法访问"), (4, "错别字"), (10, "办事服务问题")]:
        assert f'<option value="{code}">{label}</option>' in page.text
    assert page.text.count("<option value=") == 9  # "请选择" and the eight categories


def test_unknown_closed_and_mismatched_sites_are_told_and_still_submittable(
    client, clock, session: Session, directory: Directory
) -> None:
    unknown = client.get("/jiucuo", params={"site_code": "9901009999", "url": "http://x.cn/"})
    assert (
        "网站标识码“9901009999”不在网站名录中。您仍可提交，留言将由运维人员核实后转交相应单位。"
        in unknown.text
    )
    mismatched = client.get(
        "/jiucuo", params={"site_code": "9901000002", "url": "http://jyj.yi.example.gov.cn/a"}
    )
    assert (
        "您填写的页面地址属于另一个网站“乙市教育局网站”（网站标识码 99BM000009）。"
        in mismatched.text
    )
    site = get_site_by_code(session=session, site_code="9901000002")
    update_site(session=session, site_id=site.id, site_in=SiteUpdate(status="closed"))
    session.commit()
    closed = client.get("/jiucuo", params={"site_code": "9901000002"})
    assert "该网站已关停。您仍可提交，留言将转交其主办单位办理。" in closed.text
    posted = post_form(client, clock, site_code="9901009999", page_url="http://x.cn/")
    assert posted.status_code == 201
    assert "待运维人员核实网站后转交相应单位" in posted.text


def test_a_submission_gives_a_receipt_with_local_due_dates(
    client, clock, engine, directory: Directory
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))  # a Monday
    posted = post_form(client, clock, files=[("screenshots", ("页面.png", png(), "image/png"))])
    assert posted.status_code == 201, posted.text
    code = tracking_code(posted.text)
    assert "<dt>办理单位</dt><dd>甲市教育局</dd>" in posted.text
    assert "<dt>首次答复期限</dt><dd>2026年11月25日 23:59前</dd>" in posted.text
    assert "<dt>办结期限</dt><dd>2026年12月14日 23:59前</dd>" in posted.text
    assert f'href="/track/{code}"' in posted.text
    report = stored(engine, code)
    assert (report.citizen_name, report.citizen_phone, report.category) == (
        "林晓",
        "13800138000",
        4,
    )
    track = client.get(f"/track/{code}")
    assert "<dt>截图</dt><dd>已附1张截图（仅办理单位可见）</dd>" in track.text
    assert "13800138000" not in track.text and "林晓" not in track.text


def test_field_errors_are_in_chinese_next_to_the_field_and_keep_the_text(
    client, clock, engine, directory: Directory
) -> None:
    posted = post_form(
        client, clock, page_url="ftp://x", description="错", phone="12345", email="a@", category=""
    )
    assert posted.status_code == 422
    assert field_error(posted.text, "page_url") == (
        "网址应以 http:// 或 https:// 开头，例如 https://www.example.gov.cn/index.html。"
    )
    assert field_error(posted.text, "description") == "请用5至2000个字描述问题（您写了1个字）。"
    assert field_error(posted.text, "category") == "请选择问题类型。"
    assert field_error(posted.text, "phone") == (
        "请填写11位手机号（如 13812345678）或固定电话（如 010-12345678），也可以不填。"
    )
    assert (
        field_error(posted.text, "email")
        == "电子邮箱格式不对，例如 zhang@example.com；也可以不填。"
    )
    assert 'aria-describedby="phone-hint phone-error" aria-invalid="true"' in posted.text
    assert '<div class="alert" role="alert">' in posted.text
    assert FILES_AGAIN in posted.text
    for kept in ('value="ftp://x"', ">错</textarea>", 'value="12345"', 'value="林晓"'):
        assert kept in posted.text
    assert client.get("/api/v1/answered").json()["total"] == 0


def test_a_file_that_is_not_an_image_is_named_and_nothing_is_stored(
    client, clock, engine, directory: Directory
) -> None:
    posted = post_form(
        client, clock, files=[("screenshots", ("说明.txt", b"not an image", "image/png"))]
    )
    assert posted.status_code == 422
    assert "说明.txt" in field_error(posted.text, "screenshots")
    assert 'value="首页“教育局”写成了“敎育局”。"' not in posted.text  # the textarea keeps it
    assert ">首页“教育局”写成了“敎育局”。</textarea>" in posted.text


def test_the_honeypot_refuses_a_filled_hidden_field(client, clock, directory) -> None:
    posted = post_form(client, clock, extra={guards.HONEYPOT_FIELD: "http://spam.example"})
    assert posted.status_code == 422
    assert "无法提交：表单中有一个不应填写的隐藏栏目被填写了。" in posted.text


def test_the_honeypot_setting_turns_it_off(settings, engine, clock, directory) -> None:
    app = create_app(
        settings=settings.model_copy(update={"form_honeypot": False}), engine=engine, clock=clock
    )
    with TestClient(app) as client:
        assert 'name="website"' not in client.get("/jiucuo").text
        posted = post_form(client, clock, extra={guards.HONEYPOT_FIELD: "x"})
    assert posted.status_code == 201


def test_a_form_sent_sooner_than_the_fill_time_is_refused_and_can_be_sent_again(
    client, clock, settings: Settings, directory
) -> None:
    assert settings.form_min_fill_seconds == 3
    hurried = post_form(client, clock, wait=timedelta(seconds=2))
    assert hurried.status_code == 422
    assert "提交过快：请核对填写的内容后再次点击“提交”。" in hurried.text
    data = {**TYPED, "form_token": hidden(hurried.text, "form_token")}
    clock.advance(timedelta(seconds=3))
    again = client.post("/jiucuo", data=data, files=[("screenshots", ("", b"", "x"))])
    assert again.status_code == 201


def test_a_forged_form_stamp_is_refused(client, clock, directory) -> None:
    posted = post_form(client, clock, extra={"form_token": "1000.deadbeef"})
    assert posted.status_code == 422
    assert "表单已失效，请再次点击“提交”。" in posted.text


def test_the_captcha_is_asked_after_the_threshold_and_checked(
    settings, engine, clock, directory
) -> None:
    app = create_app(
        settings=settings.model_copy(update={"captcha_after": 2}), engine=engine, clock=clock
    )
    with TestClient(app) as client:
        for _ in range(2):
            assert 'name="captcha"' not in client.get("/jiucuo").text
            assert post_form(client, clock).status_code == 201
        page = client.get("/jiucuo")
        challenge = hidden(page.text, "captcha_challenge")
        assert f'<img src="/captcha/{challenge}.png"' in page.text
        picture = client.get(f"/captcha/{challenge}.png")
        assert picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG")
        missing = post_form(client, clock)
        assert "请输入图中的验证码。" in missing.text
        wrong = post_form(client, clock, extra={"captcha": "WRONG"})
        assert wrong.status_code == 422
        assert "验证码不正确，请按图中字符重新输入（不区分大小写）。" in wrong.text
        page = client.get("/jiucuo")
        challenge = hidden(page.text, "captcha_challenge")
        answer = guards.captcha_answer(settings=app.state.settings, challenge=challenge)
        data = {
            **TYPED,
            "form_token": hidden(page.text, "form_token"),
            "captcha_challenge": challenge,
            "captcha": answer.lower(),
        }
        clock.advance(timedelta(seconds=30))
        right = client.post("/jiucuo", data=data, files=[("screenshots", ("", b"", "x"))])
        assert right.status_code == 201
        data["form_token"] = hidden(client.get("/jiucuo").text, "form_token")
        clock.advance(timedelta(seconds=30))
        again = client.post("/jiucuo", data=data, files=[("screenshots", ("", b"", "x"))])
    assert again.status_code == 422
    assert "这张验证码图片已经用过，请按新的图片重新输入。" in again.text


def test_the_per_address_limit_applies_to_the_form(settings, engine, clock, directory) -> None:
    app = create_app(
        settings=settings.model_copy(update={"public_rate_limit": "1/minute"}),
        engine=engine,
        clock=clock,
    )
    with TestClient(app) as client:
        assert post_form(client, clock).status_code == 201
        limited = post_form(client, clock)
    assert limited.status_code == 429
    assert re.search(r"您的地址提交过于频繁，请在\d+秒后再试。", limited.text)


def test_too_many_look_ups_get_a_chinese_page_with_retry_after(
    settings, engine, clock, directory
) -> None:
    app = create_app(
        settings=settings.model_copy(update={"public_read_rate_limit": "2/minute"}),
        engine=engine,
        clock=clock,
    )
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/track/AAAAAAAAAAAAAAAA").status_code == 404
        limited = client.get("/track/AAAAAAAAAAAAAAAA")
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert int(limited.headers["retry-after"]) > 0
    assert "<h1>查询过于频繁</h1>" in limited.text
    assert re.search(r"您的地址查询过于频繁，请在\d+秒后再试。", limited.text)


def test_an_unknown_or_malformed_tracking_code_is_a_chinese_404(client, directory) -> None:
    for code in ["AAAAAAAAAAAAAAAA", "x", "%3Cscript%3E", "A" * 300]:
        page = client.get(f"/track/{code}")
        assert page.status_code == 404
        assert "没有留言使用这个查询码，请与提交时的回执核对。" in page.text
    lookup = client.get("/track", params={"code": "abc"})
    assert lookup.status_code == 422
    assert "查询码是回执上的16位字母和数字，请核对后重新输入。" in lookup.text


def test_the_lookup_form_leads_to_the_tracking_page(client, clock, directory) -> None:
    code = tracking_code(post_form(client, clock).text)
    found = client.get("/track", params={"code": f" {code.lower()} "}, follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, f"/track/{code}")


def test_the_tracking_page_shows_the_answer_and_the_supplement_form(
    client, clock, engine, directory: Directory
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))
    code = tracking_code(post_form(client, clock).text)
    unit_act(client, directory, code, engine, "request-info", {"text": "请说明是哪一条通知。"})
    page = client.get(f"/track/{code}")
    assert "当前状态：<strong>待您补充信息</strong>" in page.text
    assert '<p class="text question">请说明是哪一条通知。</p>' in page.text
    assert f'action="/track/{code}/supplement"' in page.text
    short = client.post(f"/track/{code}/supplement", data={"text": "x"})
    assert short.status_code == 422
    assert "请填写2至2000个字的补充信息。" in short.text
    sent = client.post(
        f"/track/{code}/supplement", data={"text": "是11月20日的招生通知。"}, follow_redirects=False
    )
    assert (sent.status_code, sent.headers["location"]) == (303, f"/track/{code}#supplement")
    page = client.get(f"/track/{code}")
    assert "supplement-text" not in page.text
    assert (
        '<strong>网民补充</strong><p class="text">是11月20日的招生通知。</p>' in page.text
        or "是11月20日的招生通知。" in page.text
    )
    unit_act(client, directory, code, engine, "reply", {"text": "已转网站编辑核对。"})
    page = client.get(f"/track/{code}")
    assert '<h2>单位答复</h2><p class="text answer">已转网站编辑核对。</p>' in page.text
    assert "<dt>首次答复期限</dt><dd>2026年11月25日 23:59前</dd>" in page.text


def test_the_rating_form_appears_once_closed_and_records_the_rating(
    client, clock, engine, directory: Directory
) -> None:
    clock.set(local(2026, 9, 28, 10, 0))
    code = tracking_code(post_form(client, clock).text)
    assert 'action="/track/' + code + '/rating"' not in client.get(f"/track/{code}").text
    clock.set(local(2026, 9, 29, 15, 0))
    unit_act(
        client, directory, code, engine, "resolve", {"verdict": "confirmed", "text": "已更正。"}
    )
    page = client.get(f"/track/{code}")
    assert f'action="/track/{code}/rating"' in page.text
    assert "请在2026年10月19日 23:59前评价，只能评价一次。" in page.text
    for value, label in [
        ("satisfied", "满意"),
        ("basically_satisfied", "基本满意"),
        ("dissatisfied", "不满意"),
    ]:
        assert f'value="{value}" required> {label}</label>' in page.text
    empty = client.post(f"/track/{code}/rating", data={"comment": "很快"})
    assert empty.status_code == 422
    assert "请选择满意、基本满意或不满意；说明最多1000个字。" in empty.text
    assert ">很快</textarea>" in empty.text
    rated = client.post(
        f"/track/{code}/rating", data={"rating": "basically_satisfied", "comment": "改得及时。"}
    )
    assert rated.status_code == 200  # followed the redirect
    assert "您的评价：<strong>基本满意</strong>" in rated.text
    assert f'action="/track/{code}/rating"' not in rated.text
    assert stored(engine, code).rating == "basically_satisfied"


def test_the_answered_list_masks_contacts_filters_and_pages(
    client, clock, engine, directory: Directory
) -> None:
    clock.set(local(2026, 11, 2, 10, 0))
    code = tracking_code(
        post_form(client, clock, description="请联系我13812345678或zhang@example.com").text
    )
    unit_act(
        client,
        directory,
        code,
        engine,
        "resolve",
        {"verdict": "confirmed", "text": "已改正，有问题请打13912345678。"},
    )
    page = client.get("/answered")
    assert "<h2>错别字 · 甲市教育局网站</h2>" in page.text
    assert "138****5678" in page.text and "13812345678" not in page.text
    assert "139****5678" in page.text and "13912345678" not in page.text
    assert "zhang@example.com" not in page.text
    assert "林晓" not in page.text and "13800138000" not in page.text
    assert "共1条" in page.text
    assert "共0条" in client.get("/answered", params={"category": "0"}).text
    assert (
        "共1条"
        in client.get("/answered", params={"month": "2026-11", "site_code": "9901000002"}).text
    )
    assert "共0条" in client.get("/answered", params={"month": "2026-10"}).text
    odd = client.get("/answered", params={"category": "abc", "month": "2026-13", "page": "-1"})
    assert odd.status_code == 200
    assert "筛选条件有误，已显示全部留言。" in odd.text


def test_static_files_are_cached_and_pages_stay_small(client, clock, directory) -> None:
    page = client.get("/jiucuo", params={"site_code": "9901000002"})
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert len(assets) == 2
    total = len(page.content)
    for asset in assets:
        response = client.get(asset)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        total += len(response.content)
    assert total < 60 * 1024
    assert not re.search(r'(?:href|src)="(?:https?:)?//', page.text)


def test_production_refuses_the_default_form_secret() -> None:
    with pytest.raises(ValueError, match="ZHAOCUO_FORM_SECRET must be set in production"):
        Settings(env="production", database_url="sqlite:////data/z.db")
    Settings(env="production", database_url="sqlite:////data/z.db", form_secret="x" * 32)


def test_the_tracking_page_shows_an_approved_extension(
    client, clock, engine, directory: Directory
) -> None:
    clock.set(local(2026, 11, 23, 10, 0))
    code = tracking_code(post_form(client, clock).text)
    asked = client.post(
        f"/api/v1/unit/reports/{report_id(engine, code)}/extension",
        json={"workdays": 5, "reason": "需要协调技术公司修改页面模板。"},
        headers=directory.auth("handler_a1"),
    )
    assert asked.status_code in (200, 201), asked.text
    approved = client.post(
        f"/api/v1/unit/extensions/{asked.json()['id']}/approve",
        json={"note": "同意。"},
        headers=directory.auth("supervisor_a"),
    )
    assert approved.status_code == 200, approved.text
    page = client.get(f"/track/{code}")
    # 14 December plus five working days.
    assert "<dt>办结期限</dt><dd>2026年12月21日 23:59前</dd>" in page.text
    assert "：办结期限延长5个工作日，延至2026年12月21日 23:59" in page.text
