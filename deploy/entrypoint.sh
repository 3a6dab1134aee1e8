#!/usr/bin/env bash
# One Triad process as production runs it; the container image and deploy/run-local-stack.sh
# both start their processes through here, so the two layouts cannot drift apart.
#
#   deploy/entrypoint.sh web       gunicorn with deploy/gunicorn.conf.py (scale: TRIAD_WEB_WORKERS, more hosts)
#   deploy/entrypoint.sh worker    a Celery worker (scale: TRIAD_WORKER_CONCURRENCY, more workers)
#   deploy/entrypoint.sh beat      Celery beat: run exactly ONE per deployment
#   deploy/entrypoint.sh migrate   apply database migrations, then exit
#
# gunicorn, celery and python are taken from PATH (the image's, or .venv/bin put first by the caller).
set -euo pipefail
cd "$(dirname "$0")/.."

role=${1:-}
log_level=${LOG_LEVEL:-INFO}

case "$role" in
web)
    exec gunicorn --config deploy/gunicorn.conf.py config.wsgi:application
    ;;
worker)
    # -O fair hands a task only to a pool process that is free, so a long agreement refresh
    # never holds up the lease sweep queued behind it; with prefetch 1 and acks_late (settings)
    # a killed worker loses at most the tasks it was running, and Redis re-sends them.
    # A pool process is replaced after max-tasks-per-child tasks, or after any task that
    # leaves it above max-memory-per-child KiB (the app alone is about 200 MB).
    args=(
        -A config worker
        --loglevel "$log_level"
        -O fair
        --max-tasks-per-child "${TRIAD_WORKER_MAX_TASKS_PER_CHILD:-1000}"
        --max-memory-per-child "${TRIAD_WORKER_MAX_MEMORY_KIB:-786432}"
        --hostname "${TRIAD_WORKER_NAME:-triad@%h}"
        # No worker-to-worker chatter: nothing here uses it, and it is a Redis round trip per event.
        --without-gossip
        --without-mingle
    )
    if [[ -n ${TRIAD_WORKER_CONCURRENCY:-} ]]; then
        args+=(--concurrency "$TRIAD_WORKER_CONCURRENCY")
    fi
    exec celery "${args[@]}"
    ;;
beat)
    # Two beats would send every periodic task twice. The schedule file only records when each
    # task last ran; losing it means the (idempotent) periodic tasks run once at start.
    exec celery -A config beat --loglevel "$log_level" \
        --schedule "${TRIAD_BEAT_SCHEDULE:-${TMPDIR:-/tmp}/triad-celerybeat-schedule}"
    ;;
migrate)
    exec python manage.py migrate --no-input
    ;;
*)
    echo "usage: $0 web|worker|beat|migrate" >&2
    exit 2
    ;;
esac
