#!/usr/bin/env bash
# Triad's production process layout on one machine, without containers: gunicorn (N workers),
# one Celery worker and one Celery beat, against the PostgreSQL and Redis named by DATABASE_URL
# and REDIS_URL. Each process is started by deploy/entrypoint.sh, as in the container image.
#
#   deploy/run-local-stack.sh start    migrate, collectstatic, start all three, wait for /healthz
#   deploy/run-local-stack.sh stop     TERM all three, KILL what is left after TRIAD_STOP_TIMEOUT
#   deploy/run-local-stack.sh status   which are running, and /healthz (exit 0 only if all run)
#   deploy/run-local-stack.sh run      start in the foreground; Ctrl-C stops all
#
# Each process runs under a supervisor (this script, `supervise NAME`) that starts it again
# whenever it exits, however it exits (a crash, the OOM killer, kill -9), after 1 s, doubling
# up to 30 s while it keeps dying within a minute of starting. NAME.pid is the supervisor (the
# process group leader: stop signals it, and waits for its whole group); NAME.child.pid the
# process it runs now. Its log says when and why it restarted.
#
# The rest of the environment is the app's own (deploy/triad.env.example). Also read here:
#   TRIAD_RUN_DIR        pid files and logs                      (default: ./run/local-stack)
#   TRIAD_BIND           gunicorn's address                      (default: 127.0.0.1:8000)
#   TRIAD_WEB_WORKERS    gunicorn worker processes               (default: 2)
#   TRIAD_START_TIMEOUT  seconds to wait for a healthy /healthz  (default: 90)
#   TRIAD_STOP_TIMEOUT   seconds between TERM and KILL           (default: 20)
#   TRIAD_GUNICORN_CONTROL_SOCKET  gunicornc's socket            (default: $TRIAD_RUN_DIR/gunicorn.ctl)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN_DIR=${TRIAD_RUN_DIR:-$ROOT/run/local-stack}
START_TIMEOUT=${TRIAD_START_TIMEOUT:-90}
STOP_TIMEOUT=${TRIAD_STOP_TIMEOUT:-20}
export TRIAD_BIND=${TRIAD_BIND:-127.0.0.1:8000}
export TRIAD_WEB_WORKERS=${TRIAD_WEB_WORKERS:-2}
export TRIAD_BEAT_SCHEDULE=${TRIAD_BEAT_SCHEDULE:-$RUN_DIR/celerybeat-schedule}
# This stack's own: `gunicornc -s $RUN_DIR/gunicorn.ctl` talks to this gunicorn and no other.
export TRIAD_GUNICORN_CONTROL_SOCKET=${TRIAD_GUNICORN_CONTROL_SOCKET:-$RUN_DIR/gunicorn.ctl}
if [[ -x $ROOT/.venv/bin/python ]]; then
    export PATH="$ROOT/.venv/bin:$PATH"
fi
# Stopped first to last: beat sends no more tasks, the worker finishes its own, then the web.
PROCESSES=(beat worker web)

say() { echo "run-local-stack: $*"; }

pid_of() {  # pid_of NAME: the recorded process if it, or a process it started, still runs; else nothing
    local file=$RUN_DIR/$1.pid pid
    [[ -f $file ]] || return 0
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    if alive "$pid"; then
        # Guard against a recycled pid: it must still be one of ours.
        grep -qa -e gunicorn -e celery -e entrypoint.sh -e run-local-stack.sh "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
    elif group_alive "$pid"; then
        # The leader is gone but its group lives on (a pid is never reused while it names a group).
        echo "$pid"
    fi
    return 0
}

alive() {  # alive PID: running, and not a zombie waiting to be reaped
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

group_alive() {  # group_alive PGID: some process of that group still runs (zombies do not count)
    local stat line fields
    for stat in /proc/[0-9]*/stat; do
        { read -r line <"$stat"; } 2>/dev/null || continue
        read -r -a fields <<<"${line##*) }" # after the command name, which may hold spaces
        if [[ ${fields[2]} == "$1" && ${fields[0]} != Z && ${fields[0]} != X ]]; then
            return 0
        fi
    done
    return 1
}

healthz_url() { echo "http://127.0.0.1:${TRIAD_BIND##*:}/healthz"; }

launch() {  # launch NAME: supervise one process in its own session, so its whole group can be signalled
    local name=$1
    setsid "$ROOT/deploy/run-local-stack.sh" supervise "$name" >>"$RUN_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/$name.pid"
}

# A process that ran this long before dying is restarted after the shortest delay again.
RESTART_STABLE_SECONDS=60
RESTART_MAX_DELAY=30

supervise() {  # supervise NAME: run deploy/entrypoint.sh NAME, and again whenever it exits, until TERM or INT
    local name=$1 child=0 sleeper=0 code started delay=1 stopping=0
    # The signal goes to the process (or ends the wait before a restart); this loop only stops
    # restarting it and waits for it to finish.
    trap 'stopping=1; stop_child' TERM INT
    stop_child() {  # never `kill 0`: that would signal the whole process group, this loop included
        local pid
        for pid in "$child" "$sleeper"; do
            if ((pid > 0)); then
                kill -TERM "$pid" 2>/dev/null || true
            fi
        done
        return 0
    }
    while :; do
        started=$SECONDS
        "$ROOT/deploy/entrypoint.sh" "$name" </dev/null &
        child=$!
        echo "$child" >"$RUN_DIR/$name.child.pid"
        code=0
        wait "$child" || code=$?
        # A trapped signal ends the wait early: wait again until the process has really exited.
        while ((stopping)) && kill -0 "$child" 2>/dev/null; do
            wait "$child" || code=$?
        done
        rm -f "$RUN_DIR/$name.child.pid"
        ((stopping)) && exit 0
        if ((SECONDS - started >= RESTART_STABLE_SECONDS)); then
            delay=1
        fi
        say "$name (pid $child) exited with status $code after $((SECONDS - started)) s; restarting in $delay s"
        child=0
        sleep "$delay" &
        sleeper=$!
        wait "$sleeper" || true
        sleeper=0
        ((stopping)) && exit 0
        delay=$((delay * 2 > RESTART_MAX_DELAY ? RESTART_MAX_DELAY : delay * 2))
    done
}

start() {
    : "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database}"
    : "${REDIS_URL:?REDIS_URL must name the Redis database (the Celery broker)}"
    local name running=()
    for name in "${PROCESSES[@]}"; do
        [[ -n $(pid_of "$name") ]] && running+=("$name")
    done
    if ((${#running[@]})); then
        say "already running: ${running[*]} (run dir $RUN_DIR); stop it first"
        return 1
    fi
    mkdir -p "$RUN_DIR"
    say "migrating and collecting static files (logs in $RUN_DIR)"
    "$ROOT/deploy/entrypoint.sh" migrate >>"$RUN_DIR/migrate.log" 2>&1 || {
        tail -n 40 "$RUN_DIR/migrate.log" >&2
        return 1
    }
    (cd "$ROOT" && python manage.py collectstatic --no-input) >>"$RUN_DIR/collectstatic.log" 2>&1 || {
        tail -n 40 "$RUN_DIR/collectstatic.log" >&2
        return 1
    }
    for name in web worker beat; do
        launch "$name"
    done
    say "web $(<"$RUN_DIR/web.pid"), worker $(<"$RUN_DIR/worker.pid"), beat $(<"$RUN_DIR/beat.pid"); waiting for $(healthz_url)"
    if ! python "$ROOT/deploy/healthcheck.py" wait "$(healthz_url)" --timeout "$START_TIMEOUT" --min-workers 1 \
        --pid "$(<"$RUN_DIR/web.pid")" --pid "$(<"$RUN_DIR/worker.pid")" --pid "$(<"$RUN_DIR/beat.pid")" \
        >"$RUN_DIR/healthz.json"; then
        for name in web worker beat; do
            say "--- last lines of $name.log"
            tail -n 20 "$RUN_DIR/$name.log" >&2 || true
        done
        stop
        return 1
    fi
    say "healthy on http://$TRIAD_BIND/: $(<"$RUN_DIR/healthz.json")"
}

stop() {
    local name pid pids=() deadline
    for name in "${PROCESSES[@]}"; do
        pid=$(pid_of "$name")
        if [[ -n $pid ]]; then
            kill -TERM "$pid" 2>/dev/null || kill -TERM -- "-$pid" 2>/dev/null || true
            pids+=("$pid")
            say "stopping $name ($pid)"
        fi
    done
    # Each process was started as a session and process-group leader, so its group also holds
    # what it started (gunicorn's workers, Celery's pool): wait for the whole group.
    deadline=$((SECONDS + STOP_TIMEOUT))
    for pid in "${pids[@]}"; do
        while group_alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.2
        done
    done
    for pid in "${pids[@]}"; do
        if group_alive "$pid"; then
            say "process group $pid still running after ${STOP_TIMEOUT} s: KILL"
            kill -KILL -- "-$pid" 2>/dev/null || true
            deadline=$((SECONDS + 5))
            while group_alive "$pid" && ((SECONDS < deadline)); do
                sleep 0.1
            done
        fi
    done
    for name in "${PROCESSES[@]}"; do
        rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.child.pid"
    done
    say "stopped"
}

status() {
    local name pid code=0
    for name in web worker beat; do
        pid=$(pid_of "$name")
        if [[ -n $pid && -f $RUN_DIR/$name.child.pid ]]; then
            say "$name running ($(<"$RUN_DIR/$name.child.pid"), supervisor $pid)"
        elif [[ -n $pid ]]; then
            say "$name restarting (supervisor $pid; see $RUN_DIR/$name.log)"
            code=3
        else
            say "$name stopped"
            code=3
        fi
    done
    if ((code == 0)); then
        python "$ROOT/deploy/healthcheck.py" web "$(healthz_url)" && say "$(healthz_url) answers 200" || code=1
    fi
    return "$code"
}

run() {
    trap 'trap - INT TERM; stop; exit 130' INT TERM
    start
    say "running in the foreground; Ctrl-C stops all three"
    local code=0
    # Each supervisor is a child of this shell and restarts its process; one exits only if
    # something killed the supervisor itself: then bring the others down.
    wait -n || code=$?
    trap - INT TERM
    say "a supervisor exited ($code); stopping the rest"
    stop
    return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
run) run ;;
supervise) supervise "${2:?supervise needs a process name}" ;; # internal: what start runs for each process
*)
    echo "usage: $0 start|stop|status|run" >&2
    exit 2
    ;;
esac
