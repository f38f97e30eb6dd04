from fastapi import FastAPI, Request
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

    errors: list[FieldError]


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
