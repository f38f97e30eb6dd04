"""The standing property-based check (issue 9, item 11): schemathesis against our own OpenAPI.

Every operation gets generated requests that follow the schema, as the public, a handler and an
admin, on whichever database the suite runs on. No request may get a server error, and every
response with a documented status must match its documented schema.

Every status answered must be one the operation declares (`status_code_conformance`), and every
response must match the schema and media type declared for its status.
"""

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Directory

EXAMPLES_PER_OPERATION = int(os.environ.get("ZHAOCUO_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    status_code_conformance,
]
# Who calls: no token, a handler of a department, an admin at the province office.
ROLES = {"public": None, "handler": "handler_a1", "admin": "admin"}

FIGURES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _print_figures():
    yield
    print(
        f"\nschemathesis: {FIGURES['operations']} operations×roles, {FIGURES['calls']} calls, "
        f"{FIGURES['server_errors']} server errors; generated submissions: "
        f"{FIGURES['submissions']}, accepted (201): {FIGURES['submissions_201']}"
    )


def _check_operation(operation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case) -> None:
        FIGURES["calls"] += 1
        response = case.call(headers=headers)
        FIGURES["server_errors"] += response.status_code >= 500
        if case.method == "POST" and case.path == "/api/v1/reports":
            FIGURES["submissions"] += 1
            FIGURES["submissions_201"] += response.status_code == 201
        case.validate_response(response, checks=CHECKS)

    run()


# /readyz answers 503 without a scheduler, on purpose: the check runs with one alive.
@pytest.mark.usefixtures("scheduler_alive")
@pytest.mark.parametrize("who", ROLES)
def test_no_generated_request_gets_a_server_error(app, directory: Directory, who: str):
    token = ROLES[who]
    headers = directory.auth(token) if token else {}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        FIGURES["operations"] += 1
        try:
            _check_operation(operation, headers)
        except Exception as exc:  # every operation is tried; all failures are reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:600])
    assert failures == []
