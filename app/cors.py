"""CORS for the JSON API: the origins of ZHAOCUO_CORS_ORIGINS may call /api/ from a browser.

With no origin configured (the default) no CORS header is ever sent, so browsers keep other
sites' pages from reading the API's answers. Bearer tokens travel in a header, never in a
cookie: credentials are not allowed.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/api/"
ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Accept-Language", "X-Request-ID")
EXPOSED_HEADERS = ("Retry-After", "X-Request-ID", "Content-Disposition")
PREFLIGHT_MAX_AGE = 600


class ApiCors:
    """Starlette's CORS middleware on /api/ paths only; the rest passes untouched."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
