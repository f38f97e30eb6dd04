"""The OpenAPI document is a contract a client can build on; this holds it to that."""

import re

import pytest
from fastapi import routing
from pydantic import TypeAdapter

from app.auth import get_principal, require_admin, require_supervisor
from app.main import OPENAPI_TAGS, create_app
from app.reports.router_public import rate_limited

HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")
ERROR_REFS = {"#/components/schemas/ErrorBody", "#/components/schemas/ValidationErrorBody"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from app.config import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'spec.db'}"
    return create_app(settings=Settings(database_url=url))


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.openapi()


def api_routes(app) -> list:
    """Every operation's route as the OpenAPI document sees it (included routers flattened)."""
    return [
        context
        for context in routing.iter_route_contexts(app.routes)
        if isinstance(context.original_route, routing.APIRoute) and context.include_in_schema
    ]


def dependency_calls(route) -> set:
    calls, stack = set(), [route.dependant]
    while stack:
        dependant = stack.pop()
        calls.add(dependant.call)
        stack.extend(dependant.dependencies)
    return calls


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def refs_in(schema: dict) -> set[str]:
    found = set()
    if "$ref" in schema:
        found.add(schema["$ref"])
    for option in schema.get("anyOf", []):
        found |= refs_in(option)
    return found


def test_every_operation_has_a_written_summary_and_a_described_tag(spec):
    described = {tag["name"] for tag in spec["tags"] if tag.get("description")}
    assert described == {tag["name"] for tag in OPENAPI_TAGS}
    for path, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        assert HAS_CHINESE.search(operation.get("summary", "")), where
        assert operation["tags"] and set(operation["tags"]) <= described, where


def test_every_operation_declares_the_errors_it_can_return(app, spec):
    for route in api_routes(app):
        calls = dependency_calls(route)
        expected = set()
        if get_principal in calls:
            expected.add("401")
        if {require_admin, require_supervisor} & calls:
            expected.add("403")
        if route.body_field is not None:
            expected |= {"413", "422"}
        if route.dependant.query_params or route.dependant.path_params:
            expected.add("422")
        if any(
            p.name.endswith("_id") or p.name == "tracking_code" for p in route.dependant.path_params
        ):
            expected.add("404")
        if rate_limited in calls:
            expected.add("429")
        for method in route.methods:
            operation = spec["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            where = f"{method} {route.path_format}"
            assert expected <= set(responses), (where, expected - set(responses))
            for status, response in responses.items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert refs_in(schema) and refs_in(schema) <= ERROR_REFS, (where, status)


def test_every_parameter_and_field_is_described(spec):
    for path, method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (method, path, parameter["name"])
    schemas = spec["components"]["schemas"]

    def described(definition: dict) -> bool:
        # A field of an enum or model type may carry its description on the type it refers to.
        refs = refs_in(definition) | {
            item["$ref"] for item in [definition.get("items", {})] if "$ref" in item
        }
        return bool(definition.get("description")) or any(
            schemas[ref.rsplit("/", 1)[1]].get("description") for ref in refs
        )

    undescribed = [
        f"{name}.{field}"
        for name, schema in schemas.items()
        for field, definition in schema.get("properties", {}).items()
        if not described(definition)
    ]
    assert undescribed == []


def test_every_enum_carries_its_chinese_labels(spec):
    for name, schema in spec["components"]["schemas"].items():
        if "enum" not in schema:
            continue
        labels = schema.get("x-enum-descriptions")
        assert labels and len(labels) == len(schema["enum"]), name
        assert all(HAS_CHINESE.search(label) for label in labels), name


def test_every_request_body_has_an_example_that_validates(app, spec):
    for route in api_routes(app):
        if route.body_field is None:
            continue
        for method in route.methods:
            operation = spec["paths"][route.path_format][method.lower()]
            content = operation["requestBody"]["content"]["application/json"]
            schema = content["schema"]
            if "$ref" in schema:
                schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            examples = schema.get("examples") or [
                e["value"] for e in content.get("examples", {}).values()
            ]
            assert examples, f"{method} {route.path_format}"
            adapter = TypeAdapter(route.body_field.field_info.annotation)
            for example in examples:
                adapter.validate_python(example)


def test_downloads_declare_their_media_types(spec):
    notice = spec["paths"]["/api/v1/notices/{period}"]["get"]["responses"]["200"]["content"]
    sla = spec["paths"]["/api/v1/sla-reports/{report_date}"]["get"]["responses"]["200"]["content"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert {"text/markdown", "text/csv", xlsx, "application/json"} <= set(notice)
    assert {"text/csv", xlsx, "application/json"} <= set(sla)


def test_every_instant_in_a_response_is_local_time_with_its_offset(spec):
    for name, schema in spec["components"]["schemas"].items():
        for field, definition in schema.get("properties", {}).items():
            options = definition.get("anyOf", [definition])
            for option in options:
                if (
                    option.get("format") == "date-time"
                    and name.endswith(("In", "Create", "Update")) is False
                ):
                    assert option.get("examples") == ["2026-12-04T23:59:59.999+08:00"], (
                        name,
                        field,
                    )
