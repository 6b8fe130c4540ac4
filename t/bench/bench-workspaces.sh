# Workspace reads; sourced by t/bench/bench.sh after bench-auth.sh (uses
# run_wrk, ratio, rss_kb, $tmp, $health, $tmp/keys/key.pem, $tmp/bench.env,
# build/release/bench/{mint,latency_proxy}). For SQLite (the bench stack),
# PostgreSQL (a cluster and stack started here) and SQL Server
# (t/lib/tsql.sh: the shared T-SQL server or WSMS_TEST_SQLSERVER, and a
# stack started here), then again for PostgreSQL and the T-SQL server
# through t/bench/latency_proxy (BENCH_PROXY_DELAY_US, default 1000 = 1 ms
# each way, as a network between wsmsd and the database would):
#   GET /workspaces/{id}             5 members, 2 integrations
#   GET /workspaces                  a caller with 20 workspaces
#   GET /workspaces?limit=200        a caller with BENCH_LIST_WORKSPACES (200)
#   GET /workspaces/{id}/members, GET /workspaces/{id}/integrations
# each with req/s, p50, p99, statements per request (X-DB-Statements) and
# database CPU per request (user+system time of the database server's
# processes, from /proc, before and after, divided by the requests; for
# SQLite, which runs inside the workers, the workers' CPU), at -c
# BENCH_READ_CONNECTIONS (16, as issue 14 measured). Then the issue's
# Python figures as reference ratios. Figures only.
# shellcheck disable=SC2154

ws_fail() {
    echo "bench-workspaces: $*" >&2
    return 1
}

jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

list_n=${BENCH_LIST_WORKSPACES:-200}
read_conns=${BENCH_READ_CONNECTIONS:-16}
proxy_delay=${BENCH_PROXY_DELAY_US:-1000}
clk=$(getconf CLK_TCK)

# cpu_ticks PID...: user+system ticks of the processes and their children
# (a PostgreSQL postmaster's backends; a wsmsd supervisor's workers)
cpu_ticks() {
    total=0
    for p in "$@"; do
        for c in $p $(cat /proc/"$p"/task/*/children 2>/dev/null); do
            t=$(awk '{print $14 + $15}' /proc/"$c"/stat 2>/dev/null || echo 0)
            total=$((total + t))
        done
    done
    echo "$total"
}

# bench_route LABEL URL DBPIDS: one wrk run plus statements and DB CPU
bench_route() {
    blabel=$1 burl=$2 bpids=$3
    curl -fsS -o /dev/null -H "$H1" -H "X-PMA-Token: $pma" "$burl" || true
    st=$(curl -fsS -o /dev/null -D - -H "$H1" -H "X-PMA-Token: $pma" "$burl" |
        tr -d '\r' | awk -F': ' 'tolower($1) == "x-db-statements" {print $2}')
    c0=$(cpu_ticks $bpids)
    conns_save=$conns
    conns=$read_conns
    run_wrk "$blabel" "$burl" -H "$H1" -H "X-PMA-Token: $pma" >/dev/null
    conns=$conns_save
    c1=$(cpu_ticks $bpids)
    cpu=$(awk -v a="$c0" -v b="$c1" -v n="$REQS" -v hz="$clk" \
        'BEGIN { if (n > 0) printf "%.3f", (b - a) * 1000 / hz / n; else print "n/a" }')
    printf '%-46s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  %s stmt/req  db cpu %s ms/req\n' \
        "$blabel" "$RPS" "$P50" "$P99" "${st:-?}" "$cpu"
}

# ws_setup STACKDIR: a caller with a workspace of 5 members and 2
# integrations and 19 more workspaces (H1, pma, ws), and a second caller
# with $list_n workspaces (H2, pma2)
ws_setup() {
    base=$(cat "$1/url")
    mint=build/release/bench/mint
    [ -x "$mint" ] || { ws_fail "no $mint (bench-auth.sh builds it)"; return 1; }
    tenant=$(sed -n 's/^AZURE_TENANT_ID=//p' "$tmp/bench.env")
    aud=$(sed -n 's/^AZURE_AUDIENCE=//p' "$tmp/bench.env")
    oid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    entra=$("$mint" "$tmp/keys/key.pem" bench-key "$tenant" "$aud" "$oid" "ws-${oid%%-*}@example.com" 1)
    curl -fsS -X POST -H "Authorization: Bearer $entra" "$base/auth/validate" > "$tmp/wsv.json" ||
        { ws_fail "validate failed"; return 1; }
    pma=$(jget "$tmp/wsv.json" pma_token)
    H1="Authorization: Bearer $entra"
    curl -fsS -X POST -H "$H1" -H "X-PMA-Token: $pma" -H "Content-Type: application/json" \
        -d '{"name":"bench read","provider":"Jira","provider_project":"BENCH"}' "$base/workspaces" > "$tmp/wsr.json" ||
        { ws_fail "create failed"; return 1; }
    ws=$(jget "$tmp/wsr.json" id)
    pma=$(jget "$tmp/wsr.json" pma_token)
    for i in 1 2 3 4; do
        curl -fsS -o /dev/null -X POST -H "$H1" -H "X-PMA-Token: $pma" -H "Content-Type: application/json" \
            -d "{\"user_email\":\"m$i-${oid%%-*}@example.com\",\"role\":\"MEMBER\"}" "$base/workspaces/$ws/members" ||
            { ws_fail "add member failed"; return 1; }
    done
    curl -fsS -o /dev/null -X POST -H "$H1" -H "X-PMA-Token: $pma" -H "Content-Type: application/json" \
        -d '{"provider":"ADO","display_name":"Second","external_id":"bench-ado"}' "$base/workspaces/$ws/integrations" ||
        { ws_fail "second integration failed"; return 1; }
    for i in $(seq 1 19); do
        curl -fsS -o /dev/null -X POST -H "$H1" -H "X-PMA-Token: $pma" -H "Content-Type: application/json" \
            -d "{\"name\":\"bench list $i\",\"provider\":\"SNOW\",\"provider_project\":\"L$i\"}" "$base/workspaces" ||
            { ws_fail "create failed"; return 1; }
    done
    n=$(curl -fsS -H "$H1" -H "X-PMA-Token: $pma" "$base/workspaces/$ws" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["members"]), len(d["external_links"]))')
    [ "$n" = "5 2" ] || { ws_fail "workspace has members/integrations $n, wanted 5 2"; return 1; }
    oid2=$(python3 -c 'import uuid; print(uuid.uuid4())')
    entra2=$("$mint" "$tmp/keys/key.pem" bench-key "$tenant" "$aud" "$oid2" "wl-${oid2%%-*}@example.com" 1)
    H2="Authorization: Bearer $entra2"
    pma2=$(curl -fsS -X POST -H "$H2" "$base/auth/validate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pma_token"])')
    t0=$(date +%s)
    for i in $(seq 1 "$list_n"); do
        curl -fsS -o /dev/null -X POST -H "$H2" -H "X-PMA-Token: $pma2" -H "Content-Type: application/json" \
            -d "{\"name\":\"bench many $i\",\"provider\":\"Jira\",\"provider_project\":\"M$i\"}" "$base/workspaces" ||
            { ws_fail "create failed"; return 1; }
    done
    echo "  ($list_n workspaces created in $(($(date +%s) - t0)) s)"
}

# ws_bench LABEL STACKDIR "DB PIDS": every read route
ws_bench() {
    wlabel=$1 base=$(cat "$2/url") dbpids=$3
    bench_route "$wlabel GET /workspaces/{id} (5 m, 2 i)" "$base/workspaces/$ws" "$dbpids"
    eval "get_rps_$4=\$RPS get_p99_$4=\$P99"
    # the same with one connection per worker: latency without queueing
    rc_save=$read_conns
    read_conns=${workers:-2}
    bench_route "$wlabel GET /workspaces/{id} at -c $read_conns" "$base/workspaces/$ws" "$dbpids"
    read_conns=$rc_save
    eval "get_p50_$4=\$P50"
    bench_route "$wlabel GET /workspaces (20 ws)" "$base/workspaces" "$dbpids"
    eval "list_rps_$4=\$RPS list_p99_$4=\$P99"
    H1_save=$H1 pma_save=$pma
    H1=$H2 pma=$pma2
    bench_route "$wlabel GET /workspaces?limit=200 ($list_n ws)" "$base/workspaces?limit=200" "$dbpids"
    rc_save=$read_conns
    read_conns=2 # wrk needs a connection per thread
    bench_route "$wlabel GET /workspaces?limit=200 at -c 2" "$base/workspaces?limit=200" "$dbpids"
    read_conns=$rc_save
    eval "big_p50_$4=\$P50"
    H1=$H1_save pma=$pma_save
    bench_route "$wlabel GET /workspaces/{id}/members" "$base/workspaces/$ws/members" "$dbpids"
    bench_route "$wlabel GET /workspaces/{id}/integrations" "$base/workspaces/$ws/integrations" "$dbpids"
}

postmaster() { head -n 1 "$1/postmaster.pid" 2>/dev/null; }

# proxied STACKDIR ENVFILE UPSTREAMPORT NAME: a stack whose DB_PORT is a
# latency proxy in front of the database
proxied() {
    pport=$(free_port)
    build/release/bench/latency_proxy "$pport" 127.0.0.1 "$3" "$proxy_delay" > "$tmp/proxy-$4.out" 2>&1 &
    echo $! > "$tmp/proxy-$4.pid"
    i=0
    while ! grep -q ready "$tmp/proxy-$4.out" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    (set -a; . "$2"; DB_PORT=$pport; STACK_ENV=$tmp/bench.env WSMS_WORKERS=${workers:-2} \
        WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$1" >/dev/null)
}

echo
echo "reads (wrk -c $read_conns; statements per request; database CPU per request)"
echo "WSMS_TEST_HOOKS=true" >> "$tmp/bench.env"
if STACK_ENV=$tmp/bench.env WSMS_WORKERS=${workers:-2} WSMSD=$top/build/release/wsmsd \
    sh t/lib/stack.sh start "$tmp/sqlitestack" >/dev/null && ws_setup "$tmp/sqlitestack"; then
    ws_bench "sqlite" "$tmp/sqlitestack" "$(head -n 1 "$tmp/sqlitestack/wsmsd.pid")" sqlite || true
fi
sh t/lib/stack.sh stop "$tmp/sqlitestack" >/dev/null 2>&1 || true
pgport=$(free_port)
if sh t/lib/pg.sh start "$tmp/pg" "$pgport" > "$tmp/pg.env"; then
    pgpid=$(postmaster "$tmp/pg/data")
    if (set -a; . "$tmp/pg.env"; STACK_ENV=$tmp/bench.env WSMS_WORKERS=${workers:-2} \
        WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$tmp/pgstack" >/dev/null); then
        if ws_setup "$tmp/pgstack"; then
            # statistics, as a database in service has them (autovacuum may
            # not have analyzed the fresh tables yet)
            psql -X -q -h 127.0.0.1 -p "$pgport" -U postgres -d wsms -c ANALYZE >/dev/null 2>&1 || true
            ws_bench "postgres" "$tmp/pgstack" "$pgpid" pg || true
            sh t/lib/stack.sh stop "$tmp/pgstack"
            if proxied "$tmp/pgproxystack" "$tmp/pg.env" "$pgport" pg; then
                ws_bench "postgres +1ms" "$tmp/pgproxystack" "$pgpid" pgproxy || true
                sh t/lib/stack.sh stop "$tmp/pgproxystack"
            fi
            kill "$(cat "$tmp/proxy-pg.pid")" 2>/dev/null || true
            sleep 0.3
            sed -n 's/^delay:/  (latency proxy, measured: /p' "$tmp/proxy-pg.out" | sed 's/$/)/'
        fi
        sh t/lib/stack.sh stop "$tmp/pgstack" 2>/dev/null || true
    else
        ws_fail "PostgreSQL stack did not start" || true
    fi
    sh t/lib/pg.sh stop "$tmp/pg"
else
    ws_fail "PostgreSQL cluster did not start" || true
fi
rc=0
sh t/lib/tsql.sh start "$tmp/tsql" > "$tmp/tsql.env" 2> "$tmp/tsql.err" || rc=$?
if [ $rc -eq 0 ]; then
    tspid=$(postmaster "$tmp/tsql/server/data")
    tsport=$(sed -n 's/^DB_PORT=//p' "$tmp/tsql.env")
    if (set -a; . "$tmp/tsql.env"; STACK_ENV=$tmp/bench.env WSMS_WORKERS=${workers:-2} \
        WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$tmp/mssqlstack" >/dev/null); then
        if ws_setup "$tmp/mssqlstack"; then
            # statistics of the fresh tables, as a server in service keeps
            # them (SQL Server by auto-update; sp_updatestats on both)
            printf 'EXEC sp_updatestats;\n' > "$tmp/stats.sql"
            sh t/lib/tsql.sh query "$tmp/tsql" "$tmp/stats.sql" >/dev/null 2>&1 ||
                echo "  (sp_updatestats failed; statistics as autovacuum left them)"
            ws_bench "sqlserver" "$tmp/mssqlstack" "$tspid" ms || true
            sh t/lib/stack.sh stop "$tmp/mssqlstack"
            if proxied "$tmp/mssqlproxystack" "$tmp/tsql.env" "$tsport" ms; then
                ws_bench "sqlserver +1ms" "$tmp/mssqlproxystack" "$tspid" msproxy || true
                sh t/lib/stack.sh stop "$tmp/mssqlproxystack"
            fi
            kill "$(cat "$tmp/proxy-ms.pid")" 2>/dev/null || true
            sleep 0.3
            sed -n 's/^delay:/  (latency proxy, measured: /p' "$tmp/proxy-ms.out" | sed 's/$/)/'
        fi
        sh t/lib/stack.sh stop "$tmp/mssqlstack" 2>/dev/null || true
    else
        ws_fail "SQL Server stack did not start" || true
    fi
else
    echo "sqlserver: skipped ($(head -n 1 "$tmp/tsql.err"))"
fi
sh t/lib/tsql.sh stop "$tmp/tsql"

# issue 14's reference: the Python service on Babelfish, 2 workers,
# wrk -t2 -c16 -d10s
echo
echo "reference (issue 14, Python service on Babelfish): GET /workspaces/{id} 330 req/s p99 261 ms;"
echo "  GET /workspaces (20 ws) 51 req/s p99 839 ms. Goals: 5x req/s and p99 <= 1/10 for"
echo "  GET /workspaces/{id}, 30x req/s for GET /workspaces, p50 of GET /workspaces/{id} < 3 ms"
echo "  with 1 ms injected each way, a page of 200 < 20 ms"
for d in sqlite pg ms pgproxy msproxy; do
    eval "g=\${get_rps_$d:-}; g99=\${get_p99_$d:-}; g50=\${get_p50_$d:-}; l=\${list_rps_$d:-}; b50=\${big_p50_$d:-}"
    [ -n "$g" ] || continue
    printf '  %-8s get %sx req/s, p99 %s of 261 ms, p50 %s ms (-c workers); list %sx req/s; page of 200 p50 %s ms (-c 2)\n' \
        "$d" "$(ratio "$g" 330)" "$(ratio "$g99" 261)" "$g50" "$(ratio "$l" 51)" "$b50"
done
