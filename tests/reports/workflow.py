"""The owner unit's side in tests: a report to work on, and an action on it over the API."""

from tests.conftest import Directory, submit_report

HANDLER_A1 = "handler_a1"
CITIZEN = {"name": "林晓", "phone": "13800138000"}


def submit(client, **changes) -> str:
    """A report on site A1 (category 1, with the citizen's name and phone); its tracking code."""
    return submit_report(client, **({"category": 1} | CITIZEN | changes))["tracking_code"]


def act(
    client,
    directory: Directory,
    report_id: int,
    action: str,
    body: dict,
    who=HANDLER_A1,
    language: str | None = None,
):
    headers = directory.auth(who) | ({"Accept-Language": language} if language else {})
    return client.post(f"/api/v1/unit/reports/{report_id}/{action}", json=body, headers=headers)
