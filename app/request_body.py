"""A pure ASGI middleware that guards request bodies before any endpoint reads them.

- A non-multipart body over the limit is refused with 413, on its Content-Length alone when it
  declares one, else while it streams in (chunked): it is never read whole.
- A JSON body must be strict JSON: NaN, Infinity, a number out of a double's range (1e400) and
  a lone surrogate ("\\ud800") are refused with 422. Python's json module takes all four, and
  each of them ends in a 500 somewhere (a database driver, a JSON encoder).

Multipart bodies (uploads, screenshots) have a larger limit of their own, checked the same way
(Content-Length, then counting as the app reads them): they stream through to the form parser,
which spools files, and are never held whole here.
"""

import math
from typing import Any

from pydantic_core import from_json
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import prefers_english, validation_error_body


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


def json_problem(body: bytes) -> str | None:
    """Why a body is not strict JSON, or None when it is."""
    try:
        # Refuses NaN, Infinity, invalid UTF-8 and lone surrogates; turns 1e400 into inf.
        value = from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        return str(exc)
    if not _finite(value):
        return "a number is out of range"
    return None


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class _BodyTooLarge(Exception):
    """A streamed multipart body passed its limit while the app was reading it."""


class RequestBodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_body_bytes: int,
        max_multipart_body_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_json_body_bytes
        self.max_multipart_bytes = max_multipart_body_bytes or max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        declared = headers.get("content-length")
        if content_type.lower().startswith("multipart/"):
            await self._multipart(scope, receive, send, declared)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        # Read the body here, counting: at most the limit and one chunk are ever held.
        chunks: list[bytes] = []
        size = 0
        trailing: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                trailing = message  # the client went away: let the app see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        # FastAPI reads a body without a content type as JSON as well.
        if body and (not content_type or _is_json(content_type)):
            problem = json_problem(body)
            if problem is not None:
                await self._not_json(scope, receive, send, problem)
                return
        await self.app(scope, _replay(body, trailing, receive), send)

    async def _multipart(
        self, scope: Scope, receive: Receive, send: Send, declared: str | None
    ) -> None:
        limit = self.max_multipart_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit=limit)
            return
        size = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise _BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._too_large(scope, receive, send, limit=limit)

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, *, limit: int | None = None
    ) -> None:
        request = Request(scope, receive)
        english = prefers_english(request)
        if limit is None:
            limit = self.max_bytes
            hint_en = "a description of at most 2000 characters fits many times over"
            hint_zh = "请精简后再提交"
        else:  # a multipart form: its files make the bulk of it
            hint_en = "attach fewer or smaller screenshots"
            hint_zh = "请减少截图数量或压缩截图后再提交"
        if english:
            detail = f"The request body is larger than {limit} bytes; send less ({hint_en})."
        else:
            detail = f"请求体超过 {limit} 字节，{hint_zh}。"
        response = JSONResponse({"detail": detail, "code": "body_too_large"}, status_code=413)
        await response(scope, receive, send)

    async def _not_json(self, scope: Scope, receive: Receive, send: Send, problem: str) -> None:
        request = Request(scope, receive)
        error = {"type": "json_invalid", "loc": ["body"], "msg": problem, "ctx": {}}
        body = validation_error_body([error], english=prefers_english(request))
        await JSONResponse(body, status_code=422)(scope, receive, send)


def _replay(body: bytes, trailing: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent, trailing
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if trailing is not None:
            message, trailing = trailing, None
            return message
        return await receive()

    return replay
