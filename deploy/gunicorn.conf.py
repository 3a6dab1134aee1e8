"""Production gunicorn settings: `gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`.

Every value can be overridden on the command line (or GUNICORN_CMD_ARGS) or through the TRIAD_*
variables read below; these are the defaults the benchmarks measure. deploy/entrypoint.sh web
starts it this way in the container image and in deploy/run-local-stack.sh.
"""

import gc
import multiprocessing
import os

# In a container, bind 0.0.0.0:8000 (deploy/compose.yaml); on a host, keep it on loopback behind the proxy.
bind = os.environ.get("TRIAD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TRIAD_WEB_WORKERS", multiprocessing.cpu_count()))
# One thread per worker by default. Threads let a worker serve another request while one waits
# on PostgreSQL, but the review loop is mostly Python, and threads of one process take turns on
# the interpreter lock: on the 2-core review benchmark (2 workers, 30 clients, 300-item study,
# 2026-12-04, two runs each) 1 thread served 63.9 and 58.1 browser reviews/s, 2 threads 56.4
# and 54.3, 4 threads 53.1 and 48.0, 8 threads 44.8 and 47.2; claim + submit alone, 105 and
# 98 against 91 and 83 with 4. The gthread worker still keeps connections alive between requests.
# With the database across a network, where each query waits longer, raise TRIAD_WEB_THREADS.
worker_class = "gthread"
threads = int(os.environ.get("TRIAD_WEB_THREADS", "1"))
# Without a broker, starting a very large study runs in the lead's request (a million items
# took 42 s here); with one, a worker does it.
timeout = int(os.environ.get("TRIAD_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then against slow leaks, but rarely: each restart re-imports
# Django, and at 2,000 requests it cost the review benchmark about a tenth of its throughput.
max_requests = 20000
max_requests_jitter = 2000
# Gunicorn has no request body limit of its own: the application it serves, config.wsgi, refuses
# a body over TRIAD_MAX_REQUEST_BYTES with 413 before Django reads any of it (config/body_limit.py).
accesslog = os.environ.get("TRIAD_ACCESS_LOG") or None
errorlog = "-"
# Workers signal liveness by touching a file every few seconds; on a container's overlay
# filesystem that write can block and get a healthy worker killed, so use memory when there is some.
if os.path.isdir("/dev/shm"):  # noqa: S108 - gunicorn makes its own private file there
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# X-Forwarded-Proto is believed only from FORWARDED_ALLOW_IPS (gunicorn reads that variable itself;
# default 127.0.0.1). Behind a proxy on another host or container set it to the proxy's address,
# or "*" when gunicorn is reachable only through the proxy (deploy/compose.yaml does).
# gunicorn's control socket (for gunicornc: reload, shutdown, scaling workers) defaults to one
# path for every gunicorn a user runs on the host ($XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl):
# each new one deletes the previous one's socket and takes the path over, so gunicornc commands
# reach whichever started last. Each instance gets the path it is given, or none at all
# (deploy/run-local-stack.sh gives its gunicorn one in its run directory).
control_socket_path = os.environ.get("TRIAD_GUNICORN_CONTROL_SOCKET", "")
if control_socket_path:
    control_socket = control_socket_path
else:
    control_socket_disable = True


def post_worker_init(worker: object) -> None:
    """Freeze what importing Django and the app allocated: it lives as long as the worker, and
    leaving it to the cyclic collector made every full collection walk it, which showed as a
    latency tail on claims."""
    gc.collect()
    gc.freeze()
