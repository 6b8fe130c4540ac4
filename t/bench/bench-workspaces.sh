# Workspace reads; sourced by t/bench/bench.sh after bench-auth.sh (uses
# run_wrk, ratio, rss_kb, $tmp, $health, $tmp/keys/key.pem, $tmp/bench.env,
# build/release/bench/mint). For SQLite (the bench stack), PostgreSQL (a
# cluster and stack started here) and SQL Server (t/lib/tsql.sh: the shared
# T-SQL server or WSMS_TEST_SQLSERVER, and a stack started here):
#   GET /workspaces/{id}  with 5 members and 2 integrations
#   GET /workspaces       for a caller with 20 workspaces
# as req/s, p99 and ratio to /health, plus worker RSS at ~10k and after the
# runs (at least 50k requests at the default 10 s per run).
# shellcheck disable=SC2154

ws_fail() {
    echo "bench-workspaces: $*" >&2
    return 1
}

jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# ws_bench LABEL STACKDIR SQLCMD: SQLCMD runs one SQL statement (for the
# second integration row, which the API only adds at creation)
ws_bench() {
    wlabel=$1 sdir=$2 sqlcmd=$3
    base=$(cat "$sdir/url")
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
    schema=$(jget "$tmp/wsr.json" db_schema_name)
    pma=$(jget "$tmp/wsr.json" pma_token)
    for i in 1 2 3 4; do
        curl -fsS -o /dev/null -X POST -H "$H1" -H "X-PMA-Token: $pma" -H "Content-Type: application/json" \
            -d "{\"user_email\":\"m$i-${oid%%-*}@example.com\",\"role\":\"MEMBER\"}" "$base/workspaces/$ws/members" ||
            { ws_fail "add member failed"; return 1; }
    done
    $sqlcmd "$schema" "$ws" || { ws_fail "second integration insert failed"; return 1; }
    for i in $(seq 1 19); do
        curl -fsS -o /dev/null -X POST -H "$H1" -H "X-PMA-Token: $pma" -H "Content-Type: application/json" \
            -d "{\"name\":\"bench list $i\"}" "$base/workspaces" || { ws_fail "create failed"; return 1; }
    done
    n=$(curl -fsS -H "$H1" -H "X-PMA-Token: $pma" "$base/workspaces/$ws" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["members"]), len(d["external_links"]))')
    [ "$n" = "5 2" ] || { ws_fail "workspace has members/integrations $n, wanted 5 2"; return 1; }
    sup=$(head -n 1 "$sdir/wsmsd.pid")
    run_wrk "$wlabel GET /workspaces/{id} (5 m, 2 i)" "$base/workspaces/$ws" -H "$H1" -H "X-PMA-Token: $pma"
    one=$RPS
    r10=$(rss_kb "$sup")
    run_wrk "$wlabel GET /workspaces (20 ws)" "$base/workspaces" -H "$H1" -H "X-PMA-Token: $pma"
    list=$RPS
    run_wrk "$wlabel GET /workspaces/{id} again" "$base/workspaces/$ws" -H "$H1" -H "X-PMA-Token: $pma"
    r50=$(rss_kb "$sup")
    printf '  %s ratios to /health: get %s, list %s; worker RSS %s kB -> %s kB (growth %s kB)\n' \
        "$wlabel" "$(ratio "$one" "$health")" "$(ratio "$list" "$health")" "$r10" "$r50" "$((r50 - r10))"
}

sqlite_sql() {
    sqlite3 "$tmp/stack/data/pmassist_master.db" "INSERT INTO ws__workspace_integrations
      (workspace_integration_id, workspace_id, integration_display_name, provider, connection_status,
       added_by_user_id, added_utc) VALUES (lower(hex(randomblob(4)))||'-0000-4000-8000-000000000000', '$2',
       'Second', 'ADO', 'Pending', 'bench', '2026-01-01 00:00:00.000')"
}

pg_sql() {
    PGPASSWORD=wsms-test-pw psql -q -h 127.0.0.1 -p "$pgport" -U wsms wsms -c "INSERT INTO $1.workspace_integrations
      (workspace_integration_id, workspace_id, integration_display_name, provider, connection_status,
       added_by_user_id, added_utc) VALUES ('$(python3 -c 'import uuid; print(uuid.uuid4())')', '$2',
       'Second', 'ADO', 'Pending', 'bench', '2026-01-01 00:00:00')" >/dev/null
}

mssql_sql() {
    printf "INSERT INTO %s.workspace_integrations (workspace_integration_id, workspace_id,
      integration_display_name, provider, connection_status, added_by_user_id, added_utc)
      VALUES (NEWID(), '%s', N'Second', N'ADO', N'Pending', N'bench', '2026-01-01 00:00:00')\n" \
        "$1" "$2" > "$tmp/mssql.sql"
    sh t/lib/tsql.sh query "$tmp/tsql" "$tmp/mssql.sql" >/dev/null
}

echo
ws_bench "sqlite" "$tmp/stack" sqlite_sql || true
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if sh t/lib/pg.sh start "$tmp/pg" "$pgport" > "$tmp/pg.env"; then
    if (set -a; . "$tmp/pg.env"; STACK_ENV=$tmp/bench.env WSMS_WORKERS=${workers:-2} \
        WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$tmp/pgstack" >/dev/null); then
        ws_bench "postgres" "$tmp/pgstack" pg_sql || true
        sh t/lib/stack.sh stop "$tmp/pgstack"
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
    if (set -a; . "$tmp/tsql.env"; STACK_ENV=$tmp/bench.env WSMS_WORKERS=${workers:-2} \
        WSMSD=$top/build/release/wsmsd sh t/lib/stack.sh start "$tmp/mssqlstack" >/dev/null); then
        ws_bench "sqlserver" "$tmp/mssqlstack" mssql_sql || true
        sh t/lib/stack.sh stop "$tmp/mssqlstack"
    else
        ws_fail "SQL Server stack did not start" || true
    fi
else
    echo "sqlserver: skipped ($(head -n 1 "$tmp/tsql.err"))"
fi
sh t/lib/tsql.sh stop "$tmp/tsql"
