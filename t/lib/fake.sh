#!/bin/sh
# fake.sh: start/stop t/fake/upstream.py (loopback fake of Jira, ADO,
# ServiceNow and Graph) for unit and integration tests.
#
#   sh t/lib/fake.sh start DIR   start it; writes DIR/fake.pid, DIR/fake.port
#                                and DIR/fake.log, prints the base URL
#                                http://127.0.0.1:PORT on stdout
#   sh t/lib/fake.sh stop DIR    stop the one started with DIR
#   sh t/lib/fake.sh url DIR     print the base URL of the running fake
#
# Environment:
#   FAKE_PORT           port to listen on (default 0: any free port)
#   FAKE_STALL_SECONDS  how long the "stall" scenario sleeps (default 30)
#   FAKE_PAGE_DELAY     per-page delay of the "slowpages" scenario (default 0.6)
#   FAKE_TLS_CERT, FAKE_TLS_KEY
#                       also serve HTTPS on another port (DIR/fake.tls_port)
#
# Base URLs for the service (scenario chosen by a /s/<name> path prefix, or
# globally with POST $URL/__scenario):
#   JIRA_BASE_URL=$URL/s/ok/jira  ADO_ORG_URL=$URL/s/ok/org
#   SNOW_BASE_URL=$URL/s/ok/snow  GRAPH_BASE_URL=$URL/s/ok/graph
# Scenarios and control endpoints are documented at the top of upstream.py.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fake="$here/../fake/upstream.py"

usage() {
    echo "usage: $0 start|stop|url DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

case "$cmd" in
start)
    mkdir -p "$dir"
    if [ -f "$dir/fake.pid" ] && kill -0 "$(cat "$dir/fake.pid")" 2>/dev/null; then
        echo "fake.sh: already running (pid $(cat "$dir/fake.pid"))" >&2
        exit 1
    fi
    rm -f "$dir/fake.port" "$dir/fake.tls_port"
    set -- --port "${FAKE_PORT:-0}" --port-file "$dir/fake.port" \
        --stall-seconds "${FAKE_STALL_SECONDS:-30}" --page-delay "${FAKE_PAGE_DELAY:-0.6}"
    if [ -n "${FAKE_TLS_CERT:-}" ]; then
        set -- "$@" --tls-cert "$FAKE_TLS_CERT" --tls-key "${FAKE_TLS_KEY:?FAKE_TLS_KEY}" \
            --tls-port-file "$dir/fake.tls_port"
    fi
    python3 "$fake" "$@" >"$dir/fake.log" 2>&1 </dev/null &
    echo $! >"$dir/fake.pid"
    i=0
    while [ ! -s "$dir/fake.port" ]; do
        if ! kill -0 "$(cat "$dir/fake.pid")" 2>/dev/null; then
            echo "fake.sh: upstream.py exited; log follows" >&2
            cat "$dir/fake.log" >&2
            exit 1
        fi
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "fake.sh: upstream.py did not start within 20 s" >&2
            kill "$(cat "$dir/fake.pid")" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
    echo "http://127.0.0.1:$(cat "$dir/fake.port")"
    ;;
stop)
    [ -f "$dir/fake.pid" ] || exit 0
    pid=$(cat "$dir/fake.pid")
    if kill "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/fake.pid" "$dir/fake.port" "$dir/fake.tls_port"
    ;;
url)
    [ -s "$dir/fake.port" ] || { echo "fake.sh: not running in $dir" >&2; exit 1; }
    echo "http://127.0.0.1:$(cat "$dir/fake.port")"
    ;;
*)
    usage
    ;;
esac
