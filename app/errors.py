from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class AppError(Exception):
    """A domain error that knows its HTTP status, a stable code and its message in both languages.

    `message` is the Chinese sentence a person can act on (the default language); `en` is the
    same in English, sent when the request's Accept-Language prefers English. `code` is stable
    snake_case that never changes with the language (docs/errors.md lists every code).
    """

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        en: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = en or message
        if code is not None:
            self.code = code
        self.headers = headers


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unprocessable(AppError):
    status_code = 422
    code = "unprocessable"


class MethodNotAllowed(AppError):
    status_code = 405
    code = "method_not_allowed"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="A sentence a person can act on, in Chinese or English.")
    code: str = Field(description="Stable snake_case code; never changes with the language.")


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where the bad value is: body, query or path, then the field."
    )
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="The kind of error, stable for clients.")


class ValidationErrorBody(ErrorBody):
    """The body of a 422 for a request that does not validate."""

    errors: list[FieldError] = Field(description="each field that does not validate")


def prefers_english(request: Request) -> bool:
    """True when the request's Accept-Language ranks an English tag above every Chinese one."""
    best_lang, best_q = "zh", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if lang and q > best_q:
            best_lang, best_q = lang.lower(), q
    return best_lang.startswith("en")


def error_body(exc: AppError, request: Request) -> dict:
    message = exc.message_en if prefers_english(request) else exc.message
    return {"detail": message, "code": exc.code}


def install_error_handler(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _render(request: Request, exc: AppError) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return JSONResponse(
            error_body(exc, request), status_code=exc.status_code, headers=headers or None
        )

    @app.exception_handler(StarletteHTTPException)
    async def _render_routing(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own answers (an unknown path or method) in the same body as ours.
        error = ROUTING_ERRORS.get(exc.status_code) or AppError(
            "请求无法处理：" + str(exc.detail), en=str(exc.detail), code="http_error"
        )
        return JSONResponse(
            error_body(error, request),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


ROUTING_ERRORS: dict[int, AppError] = {
    404: NotFound(
        "没有这个地址：请对照 /docs 中的接口列表检查路径",
        en="no such path: check it against the list of endpoints at /docs",
        code="path_not_found",
    ),
    405: MethodNotAllowed(
        "这个地址不支持该请求方法：请对照 /docs 检查方法（GET、POST、PUT、PATCH）",
        en="this path does not take that method: check it against /docs",
        code="method_not_allowed",
    ),
}

# --- validation errors ----------------------------------------------------------------

# What is wrong, by pydantic's error type (and the service's own, from app/fields.py and the
# schemas), in Chinese and English; {placeholders} come from the error's context.
_PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("必须填写", "is required"),
    "extra_forbidden": ("不是可接受的字段", "is not an accepted field"),
    "string_type": ("应为文本", "must be a text"),
    "string_unicode": ("含有无法编码的字符（单独的代理码位）", "holds a lone surrogate"),
    "string_too_short": ("至少 {min_length} 个字符", "must have at least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "must have at most {max_length} characters"),
    "string_pattern_mismatch": ("格式不对（应符合 {pattern}）", "must match {pattern}"),
    "too_short": ("至少 {min_length} 项", "must have at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "must have at most {max_length} items"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_from_float": ("应为整数", "must be an integer"),
    "finite_number": ("应为有限的数", "must be a finite number"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than": ("应小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "enum": ("应为以下之一：{expected}", "must be one of {expected}"),
    "literal_error": ("应为以下之一：{expected}", "must be one of {expected}"),
    "list_type": ("应为列表", "must be a list"),
    "dict_type": ("应为 JSON 对象", "must be a JSON object"),
    "model_type": ("应为 JSON 对象", "must be a JSON object"),
    "model_attributes_type": ("应为 JSON 对象", "must be a JSON object"),
    "json_invalid": (
        "不是有效的 JSON（不接受 NaN、Infinity、超出范围的数和单独的代理码位）",
        "is not valid JSON (NaN, Infinity, out-of-range numbers and lone surrogates are refused)",
    ),
    "date_format": (
        "应为 YYYY-MM-DD 格式的日期，如 2026-12-04",
        "must be a date written YYYY-MM-DD",
    ),
    "date_parsing": ("不是有效的日期", "is not a valid date"),
    "date_from_datetime_parsing": ("不是有效的日期", "is not a valid date"),
    "datetime_format": (
        "应为 ISO 8601 格式的时间，如 2026-12-04T10:00:00+08:00",
        "must be an instant written in ISO 8601, e.g. 2026-12-04T10:00:00+08:00",
    ),
    "datetime_parsing": ("不是有效的时间", "is not a valid instant"),
    "datetime_from_date_parsing": ("不是有效的时间", "is not a valid instant"),
    "date_range": ("应在 {min} 至 {max} 之间", "must lie between {min} and {max}"),
    "control_character": (
        "不能包含控制字符（第 {position} 个字符是 {character}）",
        "must not contain control characters ({character} at position {position})",
    ),
    "site_code": (
        "不是网站标识码：网站标识码形如 6108000003（10 位数字）、bm07000001、BT00000001 或 "
        "12BM010001，印在网站页面底部",
        "is not a site code: it looks like 6108000003 (10 digits), bm07000001, BT00000001 or "
        "12BM010001, printed at the bottom of the site's pages",
    ),
    "page_url": (
        "应以 http:// 或 https:// 开头并写明网站地址",
        "must start with http:// or https:// and name a site",
    ),
    "phone": (
        "应为 11 位手机号（13812345678）或固定电话（010-12345678）",
        "must be an 11-digit mobile number (13812345678) or a landline (010-12345678)",
    ),
    "description_length": (
        "请用 {min} 至 {max} 个字描述错误（现有 {length} 个）",
        "describe the error in {min} to {max} characters (you wrote {length})",
    ),
    "value_error": ("取值无效：{error}", "is not valid: {error}"),
}

_PLACES = {
    "body": ("请求体", "Body"),
    "query": ("查询参数", "Query parameter"),
    "path": ("路径参数", "Path parameter"),
    "header": ("请求头", "Header"),
    "cookie": ("Cookie", "Cookie"),
}


def _printable(text: str) -> str:
    # A lone surrogate cannot be written as UTF-8: it would turn a 422 into a 500.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _field_name(loc: Iterable[Any]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _problem(error: Mapping[str, Any], english: bool) -> str:
    templates = _PROBLEMS.get(error["type"])
    if templates is None:
        return str(error.get("msg", ""))
    context = {key: _printable(str(value)) for key, value in (error.get("ctx") or {}).items()}
    try:
        return templates[1 if english else 0].format_map(context)
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


def validation_error_body(errors: list[Mapping[str, Any]], *, english: bool) -> dict:
    """The 422 body (ValidationErrorBody): a sentence naming the first bad field, every error."""
    rendered = []
    for error in errors:
        loc = [part if isinstance(part, int) else _printable(str(part)) for part in error["loc"]]
        rendered.append(
            {"loc": loc, "msg": _printable(_problem(error, english)), "type": error["type"]}
        )
    first = rendered[0] if rendered else {"loc": ["body"], "msg": "", "type": "value_error"}
    place, *field = first["loc"] or ["body"]
    place_zh, place_en = _PLACES.get(str(place), (str(place), str(place)))
    name = _field_name(field)
    if english:
        detail = (
            f"{place_en} field '{name}' {first['msg']}." if name else f"{place_en} {first['msg']}."
        )
    else:
        detail = (
            f"{place_zh}中的“{name}”{first['msg']}。" if name else f"{place_zh}{first['msg']}。"
        )
    return {"detail": detail, "code": "validation_error", "errors": rendered}


def install_validation_error_handler(app: FastAPI) -> None:
    """Render every request that does not validate as a ValidationErrorBody, also in OpenAPI."""

    @app.exception_handler(RequestValidationError)
    async def _render(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = validation_error_body(list(exc.errors()), english=prefers_english(request))
        return JSONResponse(body, status_code=422)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        _declare_validation_error_body(schema)
        return schema

    app.openapi = openapi


def _declare_validation_error_body(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in (
        ValidationErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        .pop("$defs", {})
        .items()
    ):
        components.setdefault(name, definition)
    body_schema = ValidationErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    body_schema.pop("$defs", None)
    components["ValidationErrorBody"] = body_schema
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422")
            if response is None:
                continue
            response["description"] = (
                "The request does not validate (the first bad field is named), or the rules "
                "refuse it"
            )
            # A 422 is either a payload that does not validate, or one that validates but that
            # the rules refuse (an Unprocessable, in the plain error body).
            response["content"] = {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/ValidationErrorBody"},
                            {"$ref": "#/components/schemas/ErrorBody"},
                        ]
                    }
                }
            }
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
