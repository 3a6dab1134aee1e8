"""Request bodies over TRIAD_MAX_REQUEST_BYTES are refused with 413 before anything reads them.

No view accepts files, and no form or API call needs more than a few hundred KB, yet Django
would read a multipart body of any size and stream its file parts to temporary files before
a view (or the CSRF check) could say no. Two layers stop that:

- ``RequestBodyLimit`` wraps the WSGI application (config/wsgi.py), so under gunicorn a body
  is refused before Django is reached. A body declared by Content-Length is judged by that
  number without a byte read. A chunked body (no Content-Length; Django would see none of it)
  is read up to the limit, handed on with its length when it fits and refused when it does not.
- ``RequestBodyLimitMiddleware``, before anything in MIDDLEWARE that reads the body, does the Content-Length check for
  whatever does not come through config/wsgi.py (the test client, ASGI).

Settings add the rest: DATA_UPLOAD_MAX_MEMORY_SIZE caps the fields Django reads,
DATA_UPLOAD_MAX_NUMBER_FILES = 0 refuses any file part (400), and FILE_UPLOAD_HANDLERS is
empty so that no file part could be written anywhere even if that were raised.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_READ_BYTES = 64 * 1024


def _too_large_text(limit: int) -> bytes:
    return f"Request body too large: the limit is {limit:,} bytes.\n".encode()


def _declared_length(value: str | None) -> int | None:
    """The Content-Length as a number; None when absent; -1 when it is not a number."""
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        return -1


class RequestBodyLimit:
    """WSGI middleware: answer 413 to a request whose body is over `limit` bytes, unread."""

    def __init__(self, app: WSGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        declared = _declared_length(environ.get("CONTENT_LENGTH"))
        if declared == -1:
            return self._answer(start_response, "400 Bad Request", b"Content-Length is not a number.\n")
        if declared is not None and declared > self.limit:
            return self._too_large(start_response)
        if declared is None and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = self._read_at_most(environ["wsgi.input"], self.limit + 1)
            if len(body) > self.limit:
                return self._too_large(start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    @staticmethod
    def _read_at_most(stream: Any, size: int) -> bytes:
        body = bytearray()
        while len(body) < size and (chunk := stream.read(min(_READ_BYTES, size - len(body)))):
            body += chunk
        return bytes(body)

    def _too_large(self, start_response: StartResponse) -> list[bytes]:
        return self._answer(start_response, "413 Content Too Large", _too_large_text(self.limit))

    @staticmethod
    def _answer(start_response: StartResponse, status: str, text: bytes) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text)))])
        return [text]


class RequestBodyLimitMiddleware:
    """The same Content-Length check inside Django, for requests that do not come through config/wsgi.py."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.TRIAD_MAX_REQUEST_BYTES
        declared = _declared_length(request.META.get("CONTENT_LENGTH"))
        if declared == -1:
            return HttpResponse(b"Content-Length is not a number.\n", status=400, content_type="text/plain")
        if declared is not None and declared > limit:
            return HttpResponse(_too_large_text(limit), status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
