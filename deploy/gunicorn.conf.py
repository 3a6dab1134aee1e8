"""Production gunicorn settings: `gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`.

Every value can be overridden on the command line or with GUNICORN_* style flags in the
process manager; these are the defaults the benchmarks measure.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("TRIAD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TRIAD_WEB_WORKERS", multiprocessing.cpu_count()))
# Sync workers: on the 2-core review benchmark they served 73 reviews/s against 63 for
# gthread with 4 threads, since the work is CPU-bound. TRIAD_WEB_WORKER_CLASS=gthread (with
# TRIAD_WEB_THREADS) suits hosts where requests wait on a remote database.
worker_class = os.environ.get("TRIAD_WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("TRIAD_WEB_THREADS", 4))
# Starting a very large study runs inside the request (a million items took 42 s here).
timeout = int(os.environ.get("TRIAD_WEB_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then against slow leaks, but rarely: each restart re-imports
# Django, and at 2,000 requests it cost the review benchmark about a tenth of its throughput.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("TRIAD_ACCESS_LOG") or None
errorlog = "-"


def post_worker_init(worker: object) -> None:
    """Freeze what importing Django and the app allocated: it lives as long as the worker, and
    leaving it to the cyclic collector made every full collection walk it, which showed as a
    latency tail on claims."""
    gc.collect()
    gc.freeze()
