"""Issue 13: an anonymous client cannot make the server read or write more than a few MB.

Against a real gunicorn (deploy/gunicorn.conf.py serving config.wsgi:application), a 300 MB
multipart POST to the login page, declared by Content-Length or sent chunked, streamed from a
generator, is answered 413 at once, and the server's processes write almost nothing to disk
(/proc/<pid>/io write_bytes) and leave no temporary file. Inside Django the same limit holds for
requests that do not come through config/wsgi.py, and a file part is refused unread.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from config.body_limit import RequestBodyLimit

ROOT = Path(__file__).resolve().parents[2]
MB = 2**20
HOSTILE_BYTES = 300 * MB
BOUNDARY = "----triad-body-limit-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    return sock


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    here = tmp_path_factory.mktemp("body-limit")
    temp_dir = here / "tmp"
    temp_dir.mkdir()
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_DEBUG"}}
    env.update(
        # Never touched by the requests below; a file of its own so no shared database is used.
        DATABASE_URL=f"sqlite:///{here / 'unused.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
        TRIAD_ENV="production",
        DJANGO_SECRET_KEY="body-limit-test-only-" + "k" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        TMPDIR=str(temp_dir),  # where Django would spool uploaded files
    )
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        "config.wsgi:application",
    ]
    log = here / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            try:
                with _connect(port) as sock:
                    sock.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if sock.recv(12).startswith(b"HTTP/1.1"):
                        break
            except OSError:
                time.sleep(0.2)
        yield {"port": port, "pid": server.pid, "temp_dir": temp_dir, "log": log, "cookie": _csrf_cookie(port)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _csrf_cookie(port: int) -> str:
    """The CSRF cookie of a login page: with it, Django's CSRF check reads the POST body for the
    token (and so parsed the whole multipart body, files and all) before answering 403."""
    with _connect(port) as sock:
        sock.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        response = b""
        while data := sock.recv(65536):
            response += data
    head = response.split(b"\r\n\r\n", 1)[0].decode()
    cookies = [
        line.split(":", 1)[1].split(";", 1)[0].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("set-cookie:")
    ]
    [csrf] = [cookie for cookie in cookies if "csrf" in cookie.lower()]
    return csrf


def _process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [process for child in children for process in _process_tree(int(child))]


def _written(pid: int) -> int:
    """Bytes the server's processes have caused to be written to storage, so far."""
    total = 0
    for process in _process_tree(pid):
        for line in Path(f"/proc/{process}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                total += int(line.split()[1])
    return total


def _largest_temp_file(temp_dir: Path) -> int:
    return max((path.stat().st_size for path in temp_dir.rglob("*") if path.is_file()), default=0)


def _multipart_body(size: int) -> tuple[bytes, Iterator[bytes], bytes]:
    """The start, the middle (a generator: never held whole) and the end of a multipart body."""
    start = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="username"\r\n\r\nmallory\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = b"\x00" * MB

    def middle() -> Iterator[bytes]:
        for _ in range(size // MB):
            yield block

    return start, middle(), end


def _send_and_read_status(sock: socket.socket, head: bytes, pieces: Iterator[bytes]) -> tuple[str, int]:
    """Send the request head and as much of the body as the server takes; the status line, and bytes sent."""
    sock.sendall(head)
    sent = 0
    status = b""
    sock.setblocking(False)
    try:
        for piece in pieces:
            view = memoryview(piece)
            deadline = time.monotonic() + 10
            while view:
                try:
                    count = sock.send(view)
                    view, sent = view[count:], sent + count
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError from None
                    time.sleep(0.01)
                status += _read_available(sock)
                if status.startswith(b"HTTP/1.1 413"):
                    raise StopIteration
    except (StopIteration, TimeoutError, BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(10)
    try:
        while b"\r\n" not in status and (data := sock.recv(4096)):
            status += data
    except (ConnectionResetError, TimeoutError):
        pass
    return status.split(b"\r\n", 1)[0].decode(), sent


def _read_available(sock: socket.socket) -> bytes:
    try:
        return sock.recv(4096)
    except BlockingIOError:
        return b""


def _multipart_head(content_length: int | None, cookie: str) -> bytes:
    length = f"Content-Length: {content_length}\r\n" if content_length is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{length}\r\n"
    ).encode()


def _chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_300_mb_anonymous_multipart_post_is_refused_with_413_and_nothing_is_written(gunicorn: dict[str, Any]) -> None:
    start, middle, end = _multipart_body(HOSTILE_BYTES)
    written_before = _written(gunicorn["pid"])
    with _connect(gunicorn["port"]) as sock:
        status, sent = _send_and_read_status(
            sock,
            _multipart_head(len(start) + HOSTILE_BYTES + len(end), gunicorn["cookie"]),
            iter([start, *middle, end]),
        )
    assert status == "HTTP/1.1 413 Content Too Large"
    assert sent < 20 * MB, f"the server took {sent / MB:.0f} MB of the body"
    assert _written(gunicorn["pid"]) - written_before < 2 * MB
    assert _largest_temp_file(gunicorn["temp_dir"]) == 0


def test_a_300_mb_chunked_post_without_content_length_is_refused_with_413(gunicorn: dict[str, Any]) -> None:
    start, middle, end = _multipart_body(HOSTILE_BYTES)
    written_before = _written(gunicorn["pid"])
    with _connect(gunicorn["port"]) as sock:
        status, sent = _send_and_read_status(
            sock, _multipart_head(None, gunicorn["cookie"]), _chunked(iter([start, *middle, end]))
        )
    assert status == "HTTP/1.1 413 Content Too Large"
    assert sent < 20 * MB + settings.TRIAD_MAX_REQUEST_BYTES
    assert _written(gunicorn["pid"]) - written_before < 2 * MB
    assert _largest_temp_file(gunicorn["temp_dir"]) == 0


def test_a_file_part_under_the_limit_is_refused_without_being_written(gunicorn: dict[str, Any]) -> None:
    """3 MB is over Django's in-memory threshold (2.5 MB): Django would have spooled it to a temporary file."""
    start, middle, end = _multipart_body(3 * MB)
    written_before = _written(gunicorn["pid"])
    with _connect(gunicorn["port"]) as sock:
        status, _ = _send_and_read_status(
            sock, _multipart_head(len(start) + 3 * MB + len(end), gunicorn["cookie"]), iter([start, *middle, end])
        )
    assert status == "HTTP/1.1 400 Bad Request"
    assert _written(gunicorn["pid"]) - written_before < MB
    assert _largest_temp_file(gunicorn["temp_dir"]) == 0


def test_a_small_chunked_post_reaches_django(gunicorn: dict[str, Any]) -> None:
    """Under the limit, a chunked body is passed on with its length: here the CSRF check refuses it."""
    with _connect(gunicorn["port"]) as sock:
        head = (
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        status, _ = _send_and_read_status(sock, head, _chunked(iter([b"username=a&password=b"])))
    assert status == "HTTP/1.1 403 Forbidden"


# --- the WSGI layer and the Django middleware, in process ---------------------------------------


def _call(app: RequestBodyLimit, environ: dict[str, Any]) -> tuple[str, bytes]:
    answer: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status

    body = b"".join(app({"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b""), **environ}, start_response))
    return answer["status"], body


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"] or 0))
    start_response("200 OK", [])
    return [body]


def test_the_wsgi_layer_judges_a_declared_length_without_reading_the_body() -> None:
    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body was read")

    app = RequestBodyLimit(_echo, limit=100)
    assert _call(app, {"CONTENT_LENGTH": "101", "wsgi.input": Unreadable()}) == (
        "413 Content Too Large",
        b"Request body too large: the limit is 100 bytes.\n",
    )
    assert _call(app, {"CONTENT_LENGTH": "ten", "wsgi.input": Unreadable()})[0] == "400 Bad Request"
    assert _call(app, {"CONTENT_LENGTH": "5", "wsgi.input": io.BytesIO(b"hello")}) == ("200 OK", b"hello")


def test_the_wsgi_layer_reads_a_chunked_body_only_up_to_the_limit() -> None:
    app = RequestBodyLimit(_echo, limit=100)
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked"}
    assert _call(app, {**chunked, "wsgi.input": io.BytesIO(b"x" * 100)}) == ("200 OK", b"x" * 100)
    endless = io.BufferedReader(io.BytesIO(b"y" * 10_000))
    assert _call(app, {**chunked, "wsgi.input": endless})[0] == "413 Content Too Large"
    assert endless.tell() <= 101


def test_inside_django_a_declared_length_over_the_limit_is_refused_before_any_view(client: Client) -> None:
    response = client.generic(
        "POST",
        "/accounts/login/",
        b"username=a",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(settings.TRIAD_MAX_REQUEST_BYTES + 1),
    )
    assert response.status_code == 413
    # Refused inside the security middleware, so it carries the same headers as any other answer.
    assert "default-src" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_inside_django_any_file_part_is_refused(client: Client) -> None:
    response = client.post("/accounts/login/", {"username": "a", "password": "b", "file": io.BytesIO(b"data")})
    assert response.status_code == 400


def test_caddy_refuses_bodies_over_the_same_default_limit() -> None:
    if "TRIAD_MAX_REQUEST_BYTES" in os.environ:
        pytest.skip("compares the defaults: TRIAD_MAX_REQUEST_BYTES is set here")
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    match = re.search(r"request_body \{\s*max_size \{\$TRIAD_MAX_REQUEST_BYTES:(\d+)\}\s*\}", caddyfile)
    assert match is not None, "deploy/Caddyfile sets no request_body max_size from TRIAD_MAX_REQUEST_BYTES"
    assert int(match.group(1)) == settings.TRIAD_MAX_REQUEST_BYTES
