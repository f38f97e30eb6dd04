"""Screenshots through the API: multipart submissions, who reads them, nothing kept on refusal."""

from tests.conftest import Directory
from tests.reports.images import opened, png
from tests.reports.test_public import payload


def form(**changes) -> dict:
    return {key: str(value) for key, value in payload(**changes).items()}


def test_a_multipart_submission_keeps_its_screenshot_for_the_owner_unit(
    client, directory: Directory
):
    response = client.post(
        "/api/v1/reports",
        data=form(),
        files=[("screenshots", ("截图1.png", png((40, 30)), "image/png"))],
    )
    assert response.status_code == 201, response.text
    code = response.json()["tracking_code"]
    assert client.get(f"/api/v1/reports/{code}").json()["attachment_count"] == 1
    [item] = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()[
        "items"
    ]
    detail = client.get(f"/api/v1/unit/reports/{item['id']}", headers=directory.auth("handler_a1"))
    [info] = detail.json()["attachments"]
    assert (info["n"], info["media_type"], info["width"], info["height"]) == (
        1,
        "image/png",
        40,
        30,
    )
    image = client.get(
        f"/api/v1/unit/reports/{item['id']}/attachments/1", headers=directory.auth("handler_a1")
    )
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert opened(image.content).size == (40, 30)
