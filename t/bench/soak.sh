#!/bin/sh
# make bench-soak: a mixed workload through nginx for SOAK_SECONDS, once on
# SQLite, once on a PostgreSQL cluster started for the run (t/lib/pg.sh) and
# once on SQL Server (t/lib/tsql.sh: the shared T-SQL server or
# WSMS_TEST_SQLSERVER; skipped with a line when neither is there),
# with wrk and a Lua script choosing each request at random:
#   70% reads    GET /workspaces/{id} (35), GET /workspaces/{id}/members (25),
#                GET /workspaces?limit=20 (10)
#   20% members  POST a new member (10), PATCH a role (5), DELETE a member
#                added during the run (5; a PATCH until there is one)
#   10% creates  POST /workspaces
# as one user who owns SOAK_WORKSPACES pre-created workspaces (Entra token
# signed with a key made for the run, PMA token from /auth/validate).
# Prints throughput, p50/p99/p99.9, answers by status (and whether any was a
# 5xx), socket errors, and each worker's RSS at the start and the end.
# Figures only: nothing here passes or fails on speed; the exit status is
# non-zero only when the stack cannot be set up.
# Before the soak the database is pre-seeded with SOAK_SEED (5000) workspaces
# of other users (each with an owner, two members, an audit entry and an
# integration) by SQL in transactions (t/bench/seed.py; SQLite and
# PostgreSQL; on SQL Server nothing is pre-seeded, said with a line), so the
# run starts on a database that already holds that many workspaces.
# Settings: SOAK_SECONDS (60), SOAK_CONNECTIONS (32), SOAK_THREADS (2),
# SOAK_WORKERS (4), SOAK_WORKSPACES (20), SOAK_SEED (5000),
# SOAK_DBS ("sqlite postgres sqlserver"), SOAK_SAMPLE (10: seconds between RSS samples), SOAK_SETTLE (2: seconds after the run before the end RSS), SOAK_WSMSD (the wsmsd to run,
# default build/release/wsmsd; its tree's schema/ gives the seed's DDL, so
# an older build can be measured the same way).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${SOAK_SECONDS:-60}
conns=${SOAK_CONNECTIONS:-32}
threads=${SOAK_THREADS:-2}
workers=${SOAK_WORKERS:-4}
nws=${SOAK_WORKSPACES:-20}
dbs=${SOAK_DBS:-sqlite postgres sqlserver}
seed=${SOAK_SEED:-5000}
wsmsd=${SOAK_WSMSD:-$top/build/release/wsmsd}
# the schema files of the tree that built wsmsd (build/<variant>/wsmsd)
schema_dir=$(cd "$(dirname "$wsmsd")/../.." && pwd)/schema
tenant=11111111-2222-3333-4444-555555555555
aud=api://wsms-soak
kid=bench-key

command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
[ -x "$wsmsd" ] || { echo "$wsmsd missing: run make first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/wsms-soak.XXXXXX)
chmod 755 "$tmp"
cleanup() {
    for d in "$tmp"/stack-*; do
        [ -d "$d" ] && sh t/lib/stack.sh stop "$d" >/dev/null 2>&1 || true
    done
    [ -d "$tmp/pg" ] && sh t/lib/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
    [ -d "$tmp/tsql" ] && sh t/lib/tsql.sh stop "$tmp/tsql" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# An Entra v2 access token like t/lib/tokens.c makes, signed RS256 with the
# run's key (its JWKS is what the workers load).
entra_token() { # OID EMAIL NAME
    now=$(date +%s)
    h=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$kid" | b64url)
    p=$(printf '{"iss":"https://login.microsoftonline.com/%s/v2.0","aud":"%s","tid":"%s","oid":"%s","sub":"%s","iat":%s,"nbf":%s,"exp":%s,"ver":"2.0","email":"%s","preferred_username":"%s","name":"%s"}' \
        "$tenant" "$aud" "$tenant" "$1" "$1" "$now" "$now" $((now + 4 * 3600)) "$2" "$2" "$3" | b64url)
    s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$tmp/keys/key.pem" -binary | b64url)
    printf '%s.%s.%s' "$h" "$p" "$s"
}

json_field() { # FIELD < json
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

rss_list() { # SUPERVISOR_PIDS... -> "pid:kB" per worker
    for s in "$@"; do
        for c in $(cat /proc/"$s"/task/"$s"/children 2>/dev/null); do
            r=$(awk '/^VmRSS:/ {print $2}' /proc/"$c"/status 2>/dev/null || echo 0)
            printf '%s:%s ' "$c" "${r:-0}"
        done
    done
}

sh t/lib/testkeys.sh "$tmp/keys" "$kid" >/dev/null
cat > "$tmp/soak.env" <<ENV
PMA_TOKEN_SECRET=soak-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
AZURE_TENANT_ID=$tenant
AZURE_AUDIENCE=$aud
AZURE_JWKS_URL=file://$tmp/keys/jwks.json
LOG_LEVEL=WARNING
ENV

# The request mix; data.lua (tokens, workspace and member ids) comes first.
cat > "$tmp/mix.lua" <<'LUA'
counts = {}          -- globals: done() reads them with thread:get
sent = {}
local added = {}      -- {ws, member} added by this thread, for DELETEs
local n = 0
local roles = {"MEMBER", "VIEWER", "ADMIN"}
local auth

-- tid: set in each thread's state by setup()
local tidc = 0
threads_list = {}
function setup(thread)
   tidc = tidc + 1
   thread:set("tid", tidc)
   table.insert(threads_list, thread)
end

function init(args)
   math.randomseed(os.time() * 1000 + (tid or 0))
   auth = {["Authorization"] = "Bearer " .. AZURE, ["X-PMA-Token"] = PMA,
           ["Content-Type"] = "application/json"}
end

local function pick(t) return t[math.random(#t)] end
local function kind(k) sent[k] = (sent[k] or 0) + 1 end

function request()
   n = n + 1
   local r = math.random(1000)
   local ws = pick(WS)
   if r <= 350 then
      kind("get-workspace")
      return wrk.format("GET", "/workspaces/" .. ws.id, auth)
   elseif r <= 600 then
      kind("list-members")
      return wrk.format("GET", "/workspaces/" .. ws.id .. "/members?limit=50", auth)
   elseif r <= 700 then
      kind("list-workspaces")
      return wrk.format("GET", "/workspaces?limit=20", auth)
   elseif r <= 800 then
      kind("add-member")
      local body = string.format('{"user_email":"soak-m-%d-%d-%d@example.com","role":"%s"}',
                                 tid or 0, n, math.random(1000000), pick(roles))
      return wrk.format("POST", "/workspaces/" .. ws.id .. "/members", auth, body)
   elseif r <= 900 and not (r > 850 and #added > 0) then
      kind("change-role")
      local m = pick(ws.members)
      return wrk.format("PATCH", "/workspaces/" .. ws.id .. "/members/" .. m .. "/role", auth,
                        '{"role":"' .. pick(roles) .. '"}')
   elseif r <= 900 then
      kind("remove-member")
      local a = table.remove(added, math.random(#added))
      return wrk.format("DELETE", "/workspaces/" .. a[1] .. "/members/" .. a[2], auth)
   else
      kind("create-workspace")
      return wrk.format("POST", "/workspaces", auth,
                        string.format('{"name":"soak %d %d"}', tid or 0, n))
   end
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
   if status == 201 and body and body:find('"user_email":"soak%-m%-') and
      not body:find('"members"') and #added < 10000 then
      local id = body:match('"id"%s*:%s*"([%w%-]+)"')
      local ws = body:match('"workspace_id"%s*:%s*"([%w%-]+)"')
      if id and ws then table.insert(added, {ws, id}) end
   end
end

function done(summary, latency, requests)
   local total, kinds = {}, {}
   for _, t in ipairs(threads_list) do
      for k, v in pairs(t:get("counts") or {}) do total[k] = (total[k] or 0) + v end
      for k, v in pairs(t:get("sent") or {}) do kinds[k] = (kinds[k] or 0) + v end
   end
   local secs = summary.duration / 1e6
   io.write(string.format("RESULT requests %d seconds %.1f rps %.0f\n", summary.requests, secs,
                          summary.requests / secs))
   io.write(string.format("RESULT latency_ms p50 %.2f p99 %.2f p999 %.2f max %.2f\n",
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                          latency:percentile(99.9) / 1000, latency.max / 1000))
   local e = summary.errors
   io.write(string.format("RESULT socket_errors connect %d read %d write %d timeout %d\n",
                          e.connect, e.read, e.write, e.timeout))
   local keys = {}
   for k in pairs(total) do table.insert(keys, k) end
   table.sort(keys)
   for _, k in ipairs(keys) do io.write(string.format("RESULT status %d %d\n", k, total[k])) end
   local mix = {}
   for k, v in pairs(kinds) do table.insert(mix, k .. ":" .. v) end
   table.sort(mix)
   io.write("RESULT mix " .. table.concat(mix, " ") .. "\n")
end
LUA

# SOAK_SEED workspaces by SQL into the running stack's database (DB)
seed_db() { # DB DIR
    [ "$seed" -gt 0 ] || return 0
    t0=$(date +%s)
    case $1 in
    sqlite)
        f=$2/data/pmassist_master.db
        shared=""
        [ "$(sqlite3 "$f" "SELECT count(*) FROM sqlite_master WHERE name = 'ws__workspace_integrations'")" = 1 ] &&
            shared=--shared
        python3 t/bench/seed.py sqlite "$seed" "$schema_dir" $shared --attach "$f" |
            sqlite3 -bail :memory: >/dev/null
        ;;
    postgres)
        python3 t/bench/seed.py postgres "$seed" "$schema_dir" > "$tmp/seed.sql"
        PGPASSWORD=$DB_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h "$DB_SERVER" -p "$DB_PORT" \
            -U "$DB_USER" "$DB_NAME" -f "$tmp/seed.sql" >/dev/null
        ;;
    *)
        echo "  seeded       nothing (pre-seeding is for sqlite and postgres)"
        return 0
        ;;
    esac
    echo "  seeded       $seed workspaces in $(($(date +%s) - t0)) s"
}

soak_one() { # DB
    db=$1
    dir=$tmp/stack-$db
    echo "== $db: $workers workers, wrk -t $threads -c $conns, ${secs}s, $wsmsd"
    url=$(STACK_ENV=$tmp/soak.env WSMS_WORKERS=$workers WSMSD=$wsmsd sh t/lib/stack.sh start "$dir")
    sups=$(cat "$dir/wsmsd.pid")
    seed_db "$db" "$dir"
    oid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    email="soak-owner-$(echo "$oid" | cut -c1-8)@example.com"
    azure=$(entra_token "$oid" "$email" "Soak Owner")
    pma=$(curl -fsS -X POST -H "Authorization: Bearer $azure" "$url/auth/validate" | json_field pma_token)
    {
        printf 'AZURE = "%s"\nPMA = "%s"\nWS = {\n' "$azure" "$pma"
        i=0
        while [ $i -lt "$nws" ]; do
            i=$((i + 1))
            ws=$(curl -fsS -X POST -H "Authorization: Bearer $azure" -H "X-PMA-Token: $pma" \
                -H 'Content-Type: application/json' -d "{\"name\":\"soak seed $i\"}" \
                "$url/workspaces" | json_field id)
            printf '  {id = "%s", members = {' "$ws"
            for m in 1 2 3; do
                mid=$(curl -fsS -X POST -H "Authorization: Bearer $azure" -H "X-PMA-Token: $pma" \
                    -H 'Content-Type: application/json' \
                    -d "{\"user_email\":\"seed-$i-$m@example.com\",\"role\":\"MEMBER\"}" \
                    "$url/workspaces/$ws/members" | json_field id)
                printf '"%s", ' "$mid"
            done
            printf '}},\n'
        done
        printf '}\n'
    } > "$tmp/data.lua"
    cat "$tmp/data.lua" "$tmp/mix.lua" > "$tmp/soak-$db.lua"
    # warm every worker (connections, statement caches, token caches)
    wrk -t 1 -c "$workers" -d 2s -s "$tmp/soak-$db.lua" "$url" >/dev/null 2>&1 || true
    rss_start=$(rss_list $sups)
    # the workers' RSS every SOAK_SAMPLE seconds during the run: growth
    # that stops (caches filling) or goes on (a leak)
    step=${SOAK_SAMPLE:-10}
    (t=0; while :; do
        for s in $sups; do
            for c in $(cat /proc/"$s"/task/"$s"/children 2>/dev/null); do
                cat /proc/"$c"/status 2>/dev/null
            done
        done | awk -v t="$t" '/^VmRSS:/ {r += $2} /^RssAnon:/ {a += $2} /^RssFile:/ {f += $2}
                END {printf "%s:%d:%d:%d\n", t, r, a, f}'
        sleep "$step"; t=$((t + step))
    done) > "$tmp/rss-$db.txt" 2>/dev/null &
    sampler=$!
    out=$(wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s -s "$tmp/soak-$db.lua" "$url")
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    # the end figure is what the workers keep, not what a request still in
    # flight holds: wrk closes its connections at the deadline while the
    # workers finish what nginx had handed them (up to request_timeout)
    sleep "${SOAK_SETTLE:-2}"
    rss_end=$(rss_list $sups)
    rss_kinds=$(for s in $sups; do for c in $(cat /proc/"$s"/task/"$s"/children 2>/dev/null); do
        awk -v p="$c" '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^RssShmem:/ {m=$2}
            END {printf "    worker %-8s at the end: heap/anon %s, file %s, shared memory %s\n", p, a, f, m}' \
            /proc/"$c"/status 2>/dev/null; done; done)
    printf '%s\n' "$out" | awk '
        $1 == "RESULT" && $2 == "requests" { printf "  throughput   %s req/s (%s requests in %s s)\n", $7, $3, $5 }
        $1 == "RESULT" && $2 == "latency_ms" { printf "  latency      p50 %s ms   p99 %s ms   p99.9 %s ms   max %s ms\n", $4, $6, $8, $10 }
        $1 == "RESULT" && $2 == "mix" { $1 = ""; $2 = ""; sub(/^ +/, ""); printf "  sent         %s\n", $0 }
        $1 == "RESULT" && $2 == "socket_errors" { printf "  socket errs  connect %s  read %s  write %s  timeout %s\n", $4, $6, $8, $10 }
        $1 == "RESULT" && $2 == "status" {
            line = line sprintf(" %s:%s", $3, $4)
            if ($3 < 200 || $3 >= 300) bad += $4
            if ($3 >= 500) { five += $4; fl = fl sprintf(" %s:%s", $3, $4) }
        }
        END {
            printf "  by status   %s\n", line
            printf "  non-2xx      %d\n", bad
            if (five > 0) printf "  5xx          YES: %d (%s )\n", five, fl
            else printf "  5xx          none\n"
        }'
    echo "  worker RSS (kB, start -> end):"
    for e in $rss_end; do
        pid=${e%%:*}
        end_kb=${e#*:}
        start_kb=""
        for s in $rss_start; do [ "${s%%:*}" = "$pid" ] && start_kb=${s#*:}; done
        printf '    worker %-8s %8s -> %8s%s\n' "$pid" "${start_kb:-new}" "$end_kb" \
            "$([ -n "$start_kb" ] && echo "   (+$((end_kb - start_kb)))")"
    done
    printf '%s\n' "$rss_kinds"
    printf '  RSS of all workers during the run (s: total kB = heap/anon + file):%s\n' \
        "$(awk -F: '{printf "  %s: %s = %s + %s", $1, $2, $3, $4}' "$tmp/rss-$db.txt")"
    if [ "$db" = sqlite ]; then
        echo "  sqlite files $(cd "$dir/data" && ls -s --block-size=K pmassist_master.db* | tr '\n' ' ')"
    fi
    gone=""
    for s in $rss_start; do
        case " $rss_end " in *" ${s%%:*}:"*) ;; *) gone="$gone ${s%%:*}" ;; esac
    done
    [ -n "$gone" ] && echo "    workers gone during the run:$gone"
    sh t/lib/stack.sh stop "$dir" >/dev/null 2>&1 || true
}

echo "WSMS soak: mixed workload through nginx, $(nproc) cores"
for db in $dbs; do
    unset DB_TYPE DB_SERVER DB_PORT DB_NAME DB_USER DB_PASSWORD || true
    if [ "$db" = postgres ]; then
        pgport=$(free_port)
        sh t/lib/pg.sh start "$tmp/pg" "$pgport" > "$tmp/pg.env"
        set -a
        . "$tmp/pg.env"
        set +a
    fi
    if [ "$db" = sqlserver ]; then
        rc=0
        sh t/lib/tsql.sh start "$tmp/tsql" > "$tmp/tsql.env" 2> "$tmp/tsql.err" || rc=$?
        if [ $rc -ne 0 ]; then
            echo "sqlserver: skipped ($(head -n 1 "$tmp/tsql.err"))"
            continue
        fi
        set -a
        . "$tmp/tsql.env"
        set +a
    fi
    soak_one "$db"
    if [ "$db" = postgres ]; then
        sh t/lib/pg.sh stop "$tmp/pg"
    fi
    if [ "$db" = sqlserver ]; then
        sh t/lib/tsql.sh stop "$tmp/tsql"
    fi
done
