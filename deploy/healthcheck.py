"""Health probes for Triad's processes, for container healthchecks and deploy/run-local-stack.sh.

    python deploy/healthcheck.py web [URL]     # /healthz answers 200 (default: this container's own port)
    python deploy/healthcheck.py worker        # this worker's heartbeat is in Redis
    python deploy/healthcheck.py wait URL [--timeout S] [--min-workers N] [--pid PID ...]

The exit status is 0 when healthy and 1 when not, as Docker's HEALTHCHECK expects. `wait` polls
/healthz until it answers 200 with at least N live worker heartbeats, and gives up early if one of
the given processes exits. Only the standard library and redis: no Django start-up per probe.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# The key each worker refreshes (config/celery.py's WorkerHeartbeat); kept in step by
# tests/deploy/test_local_stack.py.
WORKER_HEARTBEAT_PREFIX = "triad:worker-heartbeat:"


def default_url() -> str:
    bind = os.environ.get("TRIAD_BIND", "127.0.0.1:8000")
    port = bind.rsplit(":", 1)[-1]
    return f"http://127.0.0.1:{port}/healthz"


def fetch(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    """(status, JSON body) of GET url; (0, {"error": ...}) when nothing answers."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}
    except (OSError, ValueError) as exc:
        return 0, {"error": f"{type(exc).__name__}: {exc}"}


def worker_node_name() -> str:
    """The node name deploy/entrypoint.sh gives this worker, with Celery's %h expanded."""
    return os.environ.get("TRIAD_WORKER_NAME", "triad@%h").replace("%h", socket.gethostname())


def probe_worker() -> bool:
    # Imported here: only the worker's probe needs Redis; the web's HTTP probe runs without it.
    import redis  # noqa: PLC0415

    url = os.environ.get("REDIS_URL")
    if not url:
        print("REDIS_URL is not set", file=sys.stderr)
        return False
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        alive = bool(client.exists(WORKER_HEARTBEAT_PREFIX + worker_node_name()))
    except redis.RedisError as exc:
        print(f"Redis unreachable: {exc}", file=sys.stderr)
        return False
    if not alive:
        print(f"no heartbeat from {worker_node_name()}", file=sys.stderr)
    return alive


def process_alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in {"Z", "X"}


def wait_healthy(url: str, *, timeout: float, min_workers: int, pids: list[int]) -> bool:
    deadline = time.monotonic() + timeout
    status, body = 0, {}
    while time.monotonic() < deadline:
        dead = [pid for pid in pids if not process_alive(pid)]
        if dead:
            print(f"process(es) {dead} exited before the stack was healthy", file=sys.stderr)
            return False
        status, body = fetch(url, timeout=2.0)
        workers = body.get("workers", {}).get("count") or 0
        if status == 200 and workers >= min_workers:
            print(json.dumps(body))
            return True
        time.sleep(0.25)
    print(f"{url} not healthy after {timeout:.0f} s: last answer {status} {json.dumps(body)}", file=sys.stderr)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    web = modes.add_parser("web", help="GET /healthz answers 200")
    web.add_argument("url", nargs="?", default=None)
    modes.add_parser("worker", help="this worker's heartbeat is in Redis")
    wait = modes.add_parser("wait", help="poll until healthy with enough workers")
    wait.add_argument("url")
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.add_argument("--min-workers", type=int, default=1)
    wait.add_argument("--pid", type=int, action="append", default=[])
    options = parser.parse_args()
    if options.mode == "web":
        status, body = fetch(options.url or default_url())
        if status != 200:
            print(f"/healthz answered {status}: {json.dumps(body)}", file=sys.stderr)
        return 0 if status == 200 else 1
    if options.mode == "worker":
        return 0 if probe_worker() else 1
    healthy = wait_healthy(options.url, timeout=options.timeout, min_workers=options.min_workers, pids=options.pid)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
