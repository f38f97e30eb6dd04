"""A submission's body as the API takes it: JSON as always, or a multipart form with screenshots.

The endpoint declares both bodies in OpenAPI (SUBMISSION_BODY) and reads them here; the
screenshots' bytes go to app.reports.attachments, which trusts nothing but the bytes.
"""

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import Settings
from app.errors import Unprocessable
from app.reports.attachments import PreparedImage, check_count, check_size, prepare_screenshots
from app.reports.schemas import ReportCreate

SCREENSHOTS_FIELD = "screenshots"
# Form fields a browser leaves empty when the citizen typed nothing: absent, not "".
OPTIONAL_FIELDS = ("site_code", "name", "phone", "email")
MAX_FORM_FIELDS = 50


@dataclass
class Submission:
    """A report's fields, validated, and its screenshots as (file name, bytes), unchecked."""

    report_in: ReportCreate
    files: list[tuple[str, bytes]] = field(default_factory=list)


def _body_errors(exc: ValidationError) -> RequestValidationError:
    errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    return RequestValidationError(errors)


def _validate(fields: Any) -> ReportCreate:
    try:
        return ReportCreate.model_validate(fields)
    except ValidationError as exc:
        raise _body_errors(exc) from None


def _form_fields(values: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in values.items():
        if key in OPTIONAL_FIELDS and not value.strip():
            continue
        if key == "category" and value.strip().isdigit():
            fields[key] = int(value.strip())
        else:
            fields[key] = value
    return fields


async def _read_form(request: Request, settings: Settings) -> Submission:
    try:
        # One file more than allowed still parses, so that the answer can say how many came.
        form = await request.form(
            max_files=settings.max_attachments + 1, max_fields=MAX_FORM_FIELDS
        )
    except StarletteHTTPException as exc:
        if "files" in str(exc.detail).lower():
            check_count(settings.max_attachments + 2, settings=settings)
        raise Unprocessable(
            "表单内容无法解析，请用 multipart/form-data 重新提交",
            en=f"the form cannot be read: {exc.detail}",
            code="multipart_invalid",
        ) from None
    try:
        values: dict[str, str] = {}
        uploads: list[UploadFile] = []
        for key, value in form.multi_items():
            if isinstance(value, str):
                values[key] = value
            elif key == SCREENSHOTS_FIELD:
                uploads.append(value)
            else:
                raise RequestValidationError(
                    [
                        {
                            "type": "extra_forbidden",
                            "loc": ("body", key),
                            "msg": f"files go in the field “{SCREENSHOTS_FIELD}”",
                            "input": None,
                        }
                    ]
                )
        report_in = _validate(_form_fields(values))
        uploads = [u for u in uploads if u.filename or (u.size or 0) > 0]
        check_count(len(uploads), settings=settings)
        files = []
        for upload in uploads:
            name = upload.filename or ""
            if upload.size is not None:
                check_size(name, upload.size, settings=settings)
            data = await upload.read(settings.max_attachment_bytes + 1)
            check_size(name, len(data), settings=settings)
            files.append((name, data))
        return Submission(report_in=report_in, files=files)
    finally:
        await form.close()


async def read_submission(request: Request) -> Submission:
    """The report of a POST: a JSON body, or a multipart form with `screenshots` files."""
    settings: Settings = request.app.state.settings
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await _read_form(request, settings)
    body = await request.body()  # at most ZHAOCUO_MAX_JSON_BODY_BYTES (app.request_body)
    if not body:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": str(exc), "input": None}]
        ) from None
    return Submission(report_in=_validate(value))


async def prepared_attachments(
    submission: Submission, *, settings: Settings
) -> list[PreparedImage]:
    """prepare_submission's screenshots, from an async endpoint: Pillow's work in the thread
    pool, before the request takes a database connection; no hop when there are none."""
    if not submission.files:
        return []
    return await run_in_threadpool(prepare_screenshots, submission.files, settings=settings)


def _submission_body() -> dict[str, Any]:
    """OpenAPI's requestBody of POST /api/v1/reports: the JSON report, or the same as a form."""
    schema = ReportCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # Category: in the components already
    form = copy.deepcopy(schema)
    form["title"] = "ReportCreateForm"
    form["description"] = (
        "The same report as a multipart form (category as its code), with up to 3 screenshots "
        "(PNG, JPEG, WebP or GIF, at most 5 MB each) in the field `screenshots`."
    )
    form["properties"][SCREENSHOTS_FIELD] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "maxItems": 3,
        "description": "截图 screenshots: PNG, JPEG, WebP or GIF, re-encoded without metadata",
    }
    return {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "multipart/form-data": {
                "schema": form,
                "encoding": {
                    SCREENSHOTS_FIELD: {
                        "contentType": "image/png, image/jpeg, image/webp, image/gif"
                    }
                },
            },
        },
    }


SUBMISSION_BODY = _submission_body()
