#!/bin/sh
# Local run: installs what is missing, builds, migrates the embedded SQLite
# database and starts nginx on 127.0.0.1:$WSMS_PORT (8080) in front of
# $WSMS_WORKERS (4) spawn-fcgi workers and $WSMS_SCHEDULERS (1) `wsmsd
# scheduler` processes, then follows the log.
# Ctrl-C or SIGTERM stops everything it started; so does
# `sh t/dev/run.sh stop` from another terminal (it signals this script,
# whose pid is in run/run.pid). Settings come from ./.env (created on first
# run).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# WSMS_DEV_DIR: the stack's folder (default run/; t/dev/test_run.sh uses its own)
rundir=${WSMS_DEV_DIR:-$top/run}

# stops a running `run.sh` (which stops its stack and its tail -f), then
# whatever stack is left in run/
stop_all() {
    if [ -f "$rundir/run.pid" ]; then
        pid=$(cat "$rundir/run.pid")
        if [ "$pid" != $$ ] && kill -TERM "$pid" 2>/dev/null; then
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        fi
        rm -f "$rundir/run.pid"
    fi
    sh t/lib/stack.sh stop "$rundir"
}

if [ "${1:-}" = stop ]; then
    stop_all
    echo "WSMS stopped"
    exit 0
fi

port=${WSMS_PORT:-8080}
case $port in '' | *[!0-9]*) echo "run.sh: WSMS_PORT=$port is not a port number" >&2; exit 2 ;; esac
workers=${WSMS_WORKERS:-4}
case $workers in '' | *[!0-9]* | 0) echo "run.sh: WSMS_WORKERS=$workers is not a positive number" >&2; exit 2 ;; esac

echo "== packages (t/dev/install-deps.sh)"
sh t/dev/install-deps.sh
echo "== build (make all)"
make -s all
if [ ! -f .env ]; then
    secret=$(openssl rand -hex 32)
    cat > .env <<ENV
# Created by t/dev/run.sh; see README.md "Configuration" for every setting.
PMA_TOKEN_SECRET=$secret
DB_TYPE=sqlite
DB_PATH=$top/data
# Your Entra ID tenant and the API's audience (app ID URI or client id).
AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000
AZURE_AUDIENCE=api://wsms-local
LOG_LEVEL=INFO
ENV
    chmod 600 .env
    echo "created .env (edit AZURE_TENANT_ID and AZURE_AUDIENCE to sign in with Entra ID)"
fi
mkdir -p "$rundir"
# a previous run in another terminal (or its leftovers) goes first
stop_all >/dev/null 2>&1 || true

# nginx would only log bind errors: say which setting picks another port
if ! python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$port"; then
    echo "run.sh: port $port on 127.0.0.1 is in use; pick another with WSMS_PORT (e.g. WSMS_PORT=8081 sh t/dev/run.sh)" >&2
    exit 1
fi

tailpid=""
cleanup() {
    trap - INT TERM EXIT
    [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
    sh t/lib/stack.sh stop "$rundir" || true
    rm -f "$rundir/run.pid"
    echo
    echo "WSMS stopped"
    exit 0
}
echo $$ > "$rundir/run.pid"
trap cleanup INT TERM
schedulers=${WSMS_SCHEDULERS:-1}
case $schedulers in '' | *[!0-9]*) echo "run.sh: WSMS_SCHEDULERS=$schedulers is not a number" >&2; exit 2 ;; esac
echo "== start (nginx on port $port, $workers workers, $schedulers scheduler(s))"
export STACK_ENV=$top/.env STACK_PORT=$port WSMS_WORKERS=$workers STACK_SCHEDULERS=$schedulers
export DB_PATH=${DB_PATH:-$top/data}
if ! url=$(sh t/lib/stack.sh start "$rundir"); then
    rm -f "$rundir/run.pid"
    exit 1
fi
cat <<MSG

WSMS is running: $url
  health:    curl $url/health
  database:  curl $url/db/status
  API docs:  $url/openapi.json
Logs follow; press Ctrl-C to stop (or run: sh t/dev/run.sh stop).

MSG
tail -n 0 -f "$rundir/wsmsd.log" &
tailpid=$!
# wait returns when a trapped signal arrives; cleanup exits
while :; do wait "$tailpid" || true; kill -0 "$tailpid" 2>/dev/null || break; done
tailpid=""
cleanup
