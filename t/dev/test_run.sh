#!/bin/sh
# The README's first command, as t/run runs it: `sh t/dev/run.sh` on a free
# port with its stack in a folder of its own (WSMS_DEV_DIR; the settings and
# the SQLite database are the checkout's ./.env and data/, as a newcomer's
# first run creates them), answers /health and /db/status through nginx,
# then `sh t/dev/run.sh stop` stops everything it started. Exit 0 on
# success; on failure one line saying what, and the run's output.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
tmp=$(mktemp -d /tmp/wsms-devrun.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export WSMS_DEV_DIR=$tmp/run WSMS_PORT=$port WSMS_SCHEDULERS=1
fail() {
    echo "test_run: $*" >&2
    tail -n 30 "$tmp/run.log" >&2
    sh t/dev/run.sh stop >/dev/null 2>&1
    rm -rf "$tmp"
    exit 1
}
# an interrupted test stops what it started too
trap 'sh t/dev/run.sh stop >/dev/null 2>&1; rm -rf "$tmp"; exit 1' INT TERM
sh t/dev/run.sh > "$tmp/run.log" 2>&1 &
runpid=$!
i=0
until curl -fsS "http://127.0.0.1:$port/health" > "$tmp/health.json" 2>/dev/null; do
    i=$((i + 1))
    kill -0 $runpid 2>/dev/null || fail "run.sh exited before answering /health"
    [ $i -lt 600 ] || fail "no /health answer on port $port within 120 s"
    sleep 0.2
done
grep -q '"status":"healthy"' "$tmp/health.json" || fail "/health answered $(cat "$tmp/health.json")"
st=$(curl -sS -o "$tmp/db.json" -w '%{http_code}' "http://127.0.0.1:$port/db/status")
[ "$st" = 200 ] || fail "/db/status answered $st: $(cat "$tmp/db.json")"
grep -q '"sqlite"' "$tmp/db.json" || fail "/db/status is not the embedded SQLite: $(cat "$tmp/db.json")"
[ -S "$tmp/run/fcgi-1.sock" ] || fail "the workers are not on the stack's Unix socket"
[ -s "$tmp/run/scheduler.pid" ] || fail "no scheduler was started"
sh t/dev/run.sh stop > "$tmp/stop.log" 2>&1 || fail "run.sh stop failed: $(cat "$tmp/stop.log")"
i=0
while kill -0 $runpid 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "run.sh still running 10 s after run.sh stop"
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && fail "nginx still answers after run.sh stop"
[ -f "$tmp/run/wsmsd.pid" ] && fail "the workers' pid file is left after run.sh stop"
grep -q "WSMS is running" "$tmp/run.log" || fail "run.sh did not say where it runs"
rm -rf "$tmp"
echo "test_run: the start command answered on port $port and stopped"
