"""The request and response types every sandbox service speaks.

The proxy parses HTTP/1.1 off the wire into a :class:`Request`, hands it to the service
that owns the host name, and writes the :class:`Response` back. Services are plain
``async def handle(request) -> Response`` callables, so they are tested without sockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    scheme: str
    """"http" or "https" (as the client reached the service)."""
    host: str
    """Lower-case host name, without port."""
    port: int
    target: str
    """The path and query as requested, e.g. "/a/b?x=1"."""
    headers: dict[str, str] = field(default_factory=dict)
    """Header names lower-cased."""
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        netloc = self.host if self.port == default else f"{self.host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.target}"


@dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""
    """Bytes, or an async iterator of chunks for large or slow bodies (sent chunked)."""

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8",
             headers: list[tuple[str, str]] | None = None) -> Response:
        return cls(status, [("Content-Type", content_type), *(headers or [])], text.encode())

    @classmethod
    def redirect(cls, location: str, status: int = 301) -> Response:
        return cls(status, [("Location", location), ("Content-Type", "text/html; charset=utf-8")],
                   f'<html><body>Moved: <a href="{location}">here</a></body></html>'.encode())
