#!/bin/sh
# make bench: wrk on loopback through nginx. Prints requests/s and p99 for
#   nginx's own `return 200` (context), a libfcgi hello-world responder with
#   the same workers behind the same nginx (the FastCGI ceiling), and wsmsd
#   routes, with ratios to the ceiling and to /health, plus worker RSS.
# Figures only: nothing here passes or fails on speed.
# Settings: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_WORKERS (2),
# BENCH_PARTS (which of t/bench/bench-*.sh, default all three).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
tmp=$(mktemp -d /tmp/wsms-bench.XXXXXX)
chmod 755 "$tmp"
hello_pid=""
cleanup() {
    sh t/lib/stack.sh stop "$tmp/pgstack" >/dev/null 2>&1 || true
    [ -d "$tmp/pg" ] && sh t/lib/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
    sh t/lib/stack.sh stop "$tmp/mssqlstack" >/dev/null 2>&1 || true
    sh t/lib/stack.sh stop "$tmp/sqlitestack" >/dev/null 2>&1 || true
    sh t/lib/stack.sh stop "$tmp/tcpstack" >/dev/null 2>&1 || true
    sh t/lib/stack.sh stop "$tmp/pgproxystack" >/dev/null 2>&1 || true
    sh t/lib/stack.sh stop "$tmp/mssqlproxystack" >/dev/null 2>&1 || true
    for p in "$tmp"/proxy-*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done || true
    [ -d "$tmp/tsql" ] && sh t/lib/tsql.sh stop "$tmp/tsql" >/dev/null 2>&1 || true
    [ -n "$hello_pid" ] && kill $hello_pid 2>/dev/null || true
    [ -f "$tmp/hello-nginx/nginx.pid" ] && kill "$(cat "$tmp/hello-nginx/nginx.pid")" 2>/dev/null || true
    sh t/lib/stack.sh stop "$tmp/stack" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }

# run_wrk LABEL URL [wrk args...] -> prints a line, sets RPS, P50 and P99 (ms)
run_wrk() {
    label=$1 url=$2
    shift 2
    out=$(wrk -t 2 -c "$conns" -d "${secs}s" --latency "$@" "$url")
    RPS=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
    P99=$(printf '%s\n' "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000} print v}')
    P50=$(printf '%s\n' "$out" | awk '$1 == "50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000} print v}')
    REQS=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
    non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-44s %10.0f req/s   p99 %8.2f ms%s\n' "$label" "$RPS" "$P99" "${non2xx:+   non-2xx: $non2xx}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rss_kb() { # sum of VmRSS of a supervisor's children
    total=0
    for c in $(cat /proc/"$1"/task/"$1"/children 2>/dev/null); do
        r=$(awk '/^VmRSS:/ {print $2}' /proc/"$c"/status 2>/dev/null || echo 0)
        total=$((total + r))
    done
    echo "$total"
}

echo "WSMS benchmark: wrk -c $conns, ${secs}s per run, $workers workers, $(nproc) cores"
echo

# 1) wsmsd behind nginx (SQLite)
sh t/lib/testkeys.sh "$tmp/keys" bench-key >/dev/null
cat > "$tmp/bench.env" <<ENV
PMA_TOKEN_SECRET=bench-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
AZURE_TENANT_ID=11111111-2222-3333-4444-555555555555
AZURE_AUDIENCE=api://wsms-bench
AZURE_JWKS_URL=file://$tmp/keys/jwks.json
LOG_LEVEL=WARNING
ENV
url=$(STACK_ENV=$tmp/bench.env WSMS_WORKERS=$workers WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$tmp/stack")
sup=$(cat "$tmp/stack/wsmsd.pid")

# 2) hello-world responder behind an identical nginx
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/hello-nginx"
# a Unix socket, as the wsmsd stack's (t/lib/stack.sh)
hsock=$tmp/hello-nginx/fcgi.sock
spawn-fcgi -s "$hsock" -M 0600 -F "$workers" -P "$tmp/hello.pid" -- "$top/build/release/bench/hello" >/dev/null
hello_pid=$(pgrep -f "build/release/bench/hello" | tr '\n' ' ')
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
sed -e "s#@RUNDIR@#$tmp/hello-nginx#g" -e "s#@PORT@#$hport#g" -e "s#@FCGI@#unix:$hsock#g" \
    -e "s#@USER@#$user_line#g" -e "s#@MAX_BODY@#1048576#g" -e "s#@READ_TIMEOUT@#45#g" \
    nginx/wsms-dev.conf.in > "$tmp/hello-nginx/nginx.conf"
nginx -p "$tmp/hello-nginx" -c "$tmp/hello-nginx/nginx.conf" -e "$tmp/hello-nginx/err.log"
sleep 0.5
hurl=http://127.0.0.1:$hport

run_wrk "nginx return 200 (no FastCGI)" "$hurl/nginx-static"
static=$RPS
run_wrk "libfcgi hello-world ($workers workers)" "$hurl/health"
ceiling=$RPS ceiling_p99=$P99
run_wrk "wsmsd GET /health ($workers workers)" "$url/health"
health=$RPS
rss10=$(rss_kb "$sup")
run_wrk "wsmsd GET /db/status (SQLite)" "$url/db/status"
dbst=$RPS
# more /health traffic so the RSS check spans 100k+ requests
secs_long=$((secs * 2))
secs_save=$secs
secs=$secs_long
run_wrk "wsmsd GET /health (long run)" "$url/health"
secs=$secs_save
rss100=$(rss_kb "$sup")
# the same workers on a loopback TCP port (STACK_FCGI=tcp), where a worker
# keeps libfcgi's close (it waits for nginx to close first)
if turl=$(STACK_FCGI=tcp STACK_ENV=$tmp/bench.env WSMS_WORKERS=$workers \
    WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$tmp/tcpstack"); then
    run_wrk "wsmsd GET /health over TCP" "$turl/health"
    health_tcp=$RPS
fi
sh t/lib/stack.sh stop "$tmp/tcpstack" >/dev/null 2>&1 || true

for part in ${BENCH_PARTS:-bench-auth bench-workspaces bench-integrations}; do
    [ -f "t/bench/$part.sh" ] && . "t/bench/$part.sh"
done

echo
echo "ratios"
printf '  /health / hello-world ceiling      %s   (goal >= 0.80)\n' "$(ratio "$health" "$ceiling")"
printf '  hello-world / nginx static         %s\n' "$(ratio "$ceiling" "$static")"
printf '  /db/status / /health               %s\n' "$(ratio "$dbst" "$health")"
printf '  /health over TCP / Unix socket     %s\n' "$([ -n "${health_tcp:-}" ] && ratio "$health_tcp" "$health" || echo "n/a (the TCP stack did not start)")"
echo
echo "worker RSS (sum over $workers workers): after the first runs ${rss10} kB, after the long run ${rss100} kB (growth $((rss100 - rss10)) kB)"
