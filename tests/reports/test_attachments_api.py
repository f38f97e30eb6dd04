"""Screenshots through the API: multipart submissions, who reads them, nothing kept on refusal."""

import pytest
from sqlmodel import Session

from app.auth import Role, issue_token
from app.reports.models import Report, ReportEvent
from app.reports.screenshots import ReportAttachment
from app.sla.models import Notification
from tests.conftest import Directory
from tests.reports.helpers import count, payload
from tests.reports.images import image_bytes, opened, png


def form(**changes) -> dict:
    return {key: str(value) for key, value in payload(**changes).items()}


def post(client, files, **changes):
    return client.post("/api/v1/reports", data=form(**changes), files=files)


def shot(name: str, data: bytes, content_type: str = "image/png"):
    return ("screenshots", (name, data, content_type))


def nothing_stored(engine) -> bool:
    return all(
        count(engine, model) == 0 for model in (Report, ReportEvent, ReportAttachment, Notification)
    )


def only_report_id(client, directory: Directory) -> int:
    [item] = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()[
        "items"
    ]
    return item["id"]


def test_a_multipart_submission_keeps_its_screenshots_in_order(client, directory: Directory):
    response = post(
        client,
        [
            shot("截图1.png", png((40, 30))),
            shot("photo.jpg", image_bytes("JPEG", (50, 20)), "image/jpeg"),
            shot("anim.gif", image_bytes("GIF", (12, 12), 3, mode="P"), "image/gif"),
        ],
    )
    assert response.status_code == 201, response.text
    assert response.json()["owner_unit_name"] == "甲市教育局"
    code = response.json()["tracking_code"]
    public = client.get(f"/api/v1/reports/{code}").json()
    assert public["attachment_count"] == 3
    assert "attachments" not in public

    report_id = only_report_id(client, directory)
    detail = client.get(f"/api/v1/unit/reports/{report_id}", headers=directory.auth("handler_a1"))
    infos = [
        (a["n"], a["media_type"], a["width"], a["height"]) for a in detail.json()["attachments"]
    ]
    assert infos == [(1, "image/png", 40, 30), (2, "image/jpeg", 50, 20), (3, "image/png", 12, 12)]
    sizes = [a["size"] for a in detail.json()["attachments"]]

    image = client.get(
        f"/api/v1/unit/reports/{report_id}/attachments/2", headers=directory.auth("handler_a1")
    )
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["content-disposition"] == (
        f'inline; filename="report-{report_id}-screenshot-2.jpg"'
    )
    assert image.headers["cache-control"] == "private, max-age=3600"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert len(image.content) == sizes[1]
    assert opened(image.content).size == (50, 20)


def test_form_fields_left_empty_are_absent_and_the_json_body_still_works(
    client, directory: Directory
):
    # As a browser sends a form whose file input was left empty.
    empty_input = shot("", b"", "application/octet-stream")
    response = post(client, [empty_input], name="", phone="", email="")
    assert response.status_code == 201, response.text
    assert client.post("/api/v1/reports", json=payload()).status_code == 201
    report_ids = [
        item["id"]
        for item in client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()[
            "items"
        ]
    ]
    details = [
        client.get(f"/api/v1/unit/reports/{i}", headers=directory.auth("handler_a1")).json()
        for i in report_ids
    ]
    # Newest first: the JSON one, then the form without contact details.
    assert [(d["citizen_phone"], d["citizen_email"], d["attachments"]) for d in details] == [
        ("13912345678", "ouyang.mingyuan@example.com", []),
        (None, None, []),
    ]


def test_a_form_field_that_does_not_validate_is_named(client, directory: Directory, engine):
    response = post(client, [shot("a.png", png())], description="短")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"] == ["body", "description"]
    assert nothing_stored(engine)


@pytest.mark.parametrize(
    ("files", "code", "detail"),
    [
        (
            [shot("好.png", png()), shot("notes.png", "只是文字".encode())],
            "attachment_invalid",
            "文件“notes.png”不是可用的图片，截图只接受 PNG、JPEG、WebP 或 GIF 格式",
        ),
        (
            [shot("big.png", png() + bytes(5 * 1024 * 1024))],
            "attachment_too_large",
            "文件“big.png”超过 5 MB，请压缩或截取部分后再上传",
        ),
        (
            [shot(f"{n}.png", png()) for n in range(1, 5)],
            "too_many_attachments",
            "最多只能上传 3 张截图，您选择了 4 个文件",
        ),
        (
            [shot(f"{n}.png", png()) for n in range(1, 7)],
            "too_many_attachments",
            "最多只能上传 3 张截图，您选择了 5 个文件",
        ),
    ],
    ids=["text-as-png", "oversize", "four", "six"],
)
def test_a_refused_screenshot_stores_nothing_of_the_report(
    client, directory: Directory, engine, files, code, detail
):
    response = post(client, files)
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": detail, "code": code}
    assert nothing_stored(engine)


def test_a_bomb_through_the_api_stores_nothing(client, directory: Directory, engine):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, "PNG")
    response = post(client, [shot("bomb.png", out.getvalue())])
    assert response.status_code == 422
    assert response.json()["code"] == "attachment_too_large"
    assert nothing_stored(engine)


def test_a_multipart_body_over_its_cap_is_refused_unread(client, directory: Directory, engine):
    # 3 × 5 MB + 256 KiB: a declared length over it is refused before a byte is read.
    cap = 3 * 5 * 1024 * 1024 + 256 * 1024
    response = client.post(
        "/api/v1/reports",
        content=b"x" * 16,
        headers={
            "content-type": "multipart/form-data; boundary=zz",
            "content-length": str(cap + 1),
        },
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"请求体超过 {cap} 字节，请减少截图数量或压缩截图后再提交。",
        "code": "body_too_large",
    }

    def chunks():
        yield b"--zz\r\nContent-Disposition: form-data; "
        yield b'name="screenshots"; filename="a.png"\r\n\r\n'
        for _ in range(20):
            yield bytes(1024 * 1024)

    streamed = client.post(
        "/api/v1/reports",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=zz"},
    )
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "body_too_large"
    assert nothing_stored(engine)


def test_a_broken_multipart_body_is_a_422(client, directory: Directory):
    response = client.post(
        "/api/v1/reports", content=b"hello", headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "multipart_invalid"


@pytest.fixture
def report_with_screenshot(client, directory: Directory) -> int:
    assert post(client, [shot("a.png", png())]).status_code == 201
    return only_report_id(client, directory)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("handler_a1", 200),  # the owner unit
        ("supervisor_a", 200),  # the city above it
        ("admin", 200),  # the province above both
        ("handler_b1", 404),  # another unit
        ("supervisor_b", 404),  # another city
        ("admin_b", 404),  # an admin outside the owner's tree
        (None, 401),  # the public
    ],
)
def test_only_the_owner_unit_and_its_supervisors_read_screenshots(
    client, directory: Directory, session: Session, report_with_screenshot, who, status
):
    directory.tokens["admin_b"] = issue_token(
        session=session, unit_id=directory.city_b, role=Role.admin
    )[1]
    session.commit()
    headers = directory.auth(who) if who else {}
    url = f"/api/v1/unit/reports/{report_with_screenshot}/attachments/1"
    response = client.get(url, headers=headers)
    assert response.status_code == status
    if status == 404:
        assert response.json()["code"] == "report_not_found"
    if who == "admin_b":
        # It sees the report, but neither the contact details nor the screenshots.
        detail = client.get(f"/api/v1/unit/reports/{report_with_screenshot}", headers=headers)
        assert detail.status_code == 200
        assert detail.json()["attachments"] == [] and detail.json()["citizen_phone"] is None


def test_a_screenshot_that_is_not_there_is_404(
    client, directory: Directory, report_with_screenshot
):
    response = client.get(
        f"/api/v1/unit/reports/{report_with_screenshot}/attachments/2",
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "attachment_not_found"
