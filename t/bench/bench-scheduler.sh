#!/bin/sh
# make bench-scheduler: BENCH_SCHED_JOBS jobs (10,000) in BENCH_SCHED_WORKSPACES
# workspaces (1,000) all due at the same minute, fired and run by
# BENCH_SCHED_SCHEDULERS `wsmsd scheduler` processes (2) on one database, once
# per database of BENCH_SCHED_DBS ("sqlite postgres"; add sqlserver for the
# shared T-SQL server or WSMS_TEST_SQLSERVER, skipped with a line when
# neither is there). No nginx: the workspaces are seeded in bulk by SQL
# (Workspace rows, then `wsmsd migrate` creates their schemas, then one agent
# per workspace, the jobs and their JobSchedule rows in multi-row INSERTs);
# once the schedulers run, one UPDATE makes every job due at the next whole
# minute (T0, at least 10 s away, so the idle ticks before it are measured).
# Each run's executor is the real one (integration_snapshot on a workspace
# with no integrations and no blob storage configured: it fails at once,
# which is what makes it cheap; the claim, the executor process and the
# transitions are the real cost).
# Prints, from the schedulers' logs (LOG_LEVEL=DEBUG):
#   fires        count (and per scheduler), fire lag p50/p99/max (fire time
#                to the committed root run), seconds from T0 to the last fire
#   claims       runs claimed per second (first to last claim), per scheduler
#   finished     seconds from T0 until the queue is empty
#   queries      statements per tick: idle (before T0), busy (mean, max), and
#                statements per fired-and-run job over the whole run
# Figures only: nothing passes or fails on speed; the exit status is non-zero
# only when the setup fails. BENCH_SCHED_CONCURRENCY: executors per
# scheduler (8); BENCH_SCHED_TICK_MS (1000, the default tick);
# BENCH_SCHED_TIMEOUT: seconds to wait for the queue to empty (900).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
njobs=${BENCH_SCHED_JOBS:-10000}
nws=${BENCH_SCHED_WORKSPACES:-1000}
nsched=${BENCH_SCHED_SCHEDULERS:-2}
conc=${BENCH_SCHED_CONCURRENCY:-8}
tick=${BENCH_SCHED_TICK_MS:-1000}
limit=${BENCH_SCHED_TIMEOUT:-900}
dbs=${BENCH_SCHED_DBS:-sqlite postgres}
wsmsd=$top/build/release/wsmsd

[ -x "$wsmsd" ] || { echo "$wsmsd missing: run make first" >&2; exit 1; }
[ "$nws" -ge 1 ] && [ "$njobs" -ge "$nws" ] || { echo "need jobs >= workspaces >= 1" >&2; exit 1; }
tmp=$(mktemp -d /tmp/wsms-bench-sched.XXXXXX)
chmod 755 "$tmp"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    [ -d "$tmp/pg" ] && sh t/lib/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
    [ -d "$tmp/tsql" ] && sh t/lib/tsql.sh stop "$tmp/tsql" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
setting() { sed -n "s/^$1=//p" "$env" | tail -n 1; }

# sql_file DB FILE: run a file of SQL against the run's database; rows on stdout
sql_file() {
    case $1 in
    sqlite) sqlite3 -batch -bail "$tmp/sqlite/pmassist_master.db" < "$2" ;;
    postgres)
        PGPASSWORD=$(setting DB_PASSWORD) psql -X -q -t -A -v ON_ERROR_STOP=1 \
            -h "$(setting DB_SERVER)" -p "$(setting DB_PORT)" -U "$(setting DB_USER)" \
            -d "$(setting DB_NAME)" -f "$2" ;;
    sqlserver) sh t/lib/tsql.sh query "$tmp/tsql" "$2" ;;
    esac
}
sql() { # DB 'SQL' -> rows
    printf '%s\n' "$2" > "$tmp/one.sql"
    sql_file "$1" "$tmp/one.sql"
}

bench_one() { # DB
    db=$1
    dir=$tmp/$db
    mkdir -p "$dir"
    env=$dir/wsms.env
    {
        echo "LOG_LEVEL=DEBUG"
        echo "PMA_TOKEN_SECRET=bench-sched-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
        echo "DB_TYPE=${DB_TYPE:-sqlite}"
        echo "DB_PATH=$tmp/sqlite"
        for v in DB_SERVER DB_PORT DB_NAME DB_USER DB_PASSWORD DB_DRIVER; do
            eval "val=\${$v:-}"
            [ -n "$val" ] && echo "$v=$val"
        done
        echo "WSMS_SCHEDULER_CONCURRENCY=$conc"
        echo "WSMS_SCHEDULER_TICK_MS=$tick"
        echo "WSMS_SCHEDULER_DRAIN_SECONDS=5"
        echo "WSMS_LOG_FILE=$dir/migrate.log"
    } > "$env"
    mkdir -p "$tmp/sqlite"
    export WSMS_ENV_FILE="$env"
    echo "== $db: $njobs jobs in $nws workspaces, $nsched schedulers x $conc executors, tick $tick ms"
    t=$(date +%s)
    "$wsmsd" migrate > "$dir/migrate.out" 2>&1 || { cat "$dir/migrate.out" >&2; return 1; }

    # the seed, as SQL files for this dialect (python writes them)
    python3 - "$db" "$nws" "$njobs" "$dir" <<'PY'
import sys, uuid, datetime
db, nws, njobs, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S.000")
master = "" if db == "sqlite" else "pmassist_master."
go = "go\n" if db == "sqlserver" else ""
def table(schema, t):
    return f"ws__{t}" if db == "sqlite" else f"{schema}.{t}"  # SQLite: the shared set
def chunks(rows, n=500):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]
wss = [str(uuid.uuid4()) for _ in range(nws)]
with open(f"{d}/workspaces.sql", "w") as f:
    if db == "sqlite": f.write("BEGIN;\n")
    rows = [f"('{w}', 'bench {i}', NULL, 'bench', '{now}', '{now}', 'bench/{w}', 1, "
            f"'ws_{w.replace('-', '')}', NULL, 'Active')" for i, w in enumerate(wss)]
    for c in chunks(rows):
        f.write(f"INSERT INTO {master}Workspace (id, name, description, created_by, created_at, "
                "updated_at, blob_path, is_active, db_schema_name, last_seen_utc, status) VALUES\n"
                + ",\n".join(c) + ";\n" + go)
    if db == "sqlite": f.write("COMMIT;\n")
with open(f"{d}/jobs.sql", "w") as f:
    if db == "sqlite": f.write("BEGIN;\n")
    sched = []
    for i, w in enumerate(wss):
        schema = "ws_" + w.replace("-", "")
        agent = str(uuid.uuid4())
        f.write(f"INSERT INTO {table(schema, 'workspace_agents')} (workspace_agent_id, workspace_id, "
                "agent_type, name, is_enabled, config_json, created_utc, created_by_user_id) VALUES "
                f"('{agent}', '{w}', 'integration_snapshot', 'bench', 1, '{{}}', '{now}', 'bench');\n")
        n = njobs // nws + (1 if i < njobs % nws else 0)
        rows = []
        for k in range(n):
            j = str(uuid.uuid4())
            rows.append(f"('{j}', '{w}', '{agent}', 'bench job {k}', '0 0 1 1 *', 1, 3600, 0, "
                        f"'{now}', 'bench')")
            sched.append(f"('{j}', '{w}', '{schema}', '0 0 1 1 *', NULL, 1, '{now}')")
        if rows:
            f.write(f"INSERT INTO {table(schema, 'automation_jobs')} (job_id, workspace_id, "
                    "workspace_agent_id, name, schedule_cron, is_active, timeout_seconds, "
                    "max_retries, created_utc, created_by_user_id) VALUES\n" + ",\n".join(rows)
                    + ";\n")
        if i % 50 == 49: f.write(go)
    f.write(go)
    for c in chunks(sched):
        f.write(f"INSERT INTO {master}JobSchedule (job_id, workspace_id, db_schema_name, "
                "schedule_cron, next_fire_utc, is_active, updated_at) VALUES\n" + ",\n".join(c)
                + ";\n" + go)
    if db == "sqlite": f.write("COMMIT;\n")
PY
    sql_file "$db" "$dir/workspaces.sql" > /dev/null
    t1=$(date +%s)
    "$wsmsd" migrate > "$dir/migrate.out" 2>&1 || { tail -n 5 "$dir/migrate.out" >&2; return 1; }
    t2=$(date +%s)
    sql_file "$db" "$dir/jobs.sql" > /dev/null
    t3=$(date +%s)
    echo "  seed         workspace rows $((t1 - t)) s, $nws schemas by wsmsd migrate $((t2 - t1)) s, agents + jobs + JobSchedule $((t3 - t2)) s"

    # the schedulers, each with its own log
    pids=""
    i=1
    while [ "$i" -le "$nsched" ]; do
        WSMS_LOG_FILE=$dir/sched$i.log "$wsmsd" scheduler > "$dir/sched$i.out" 2>&1 &
        pids="$pids $!"
        i=$((i + 1))
    done
    # T0: the next whole minute at least 10 s away; every job due then
    now=$(date +%s)
    t0=$(( (now + 10 + 59) / 60 * 60 ))
    t0_sql=$(date -u -d "@$t0" '+%Y-%m-%d %H:%M:%S.000')
    cron="$(date -u -d "@$t0" '+%-M %-H') * * *"
    sql "$db" "UPDATE ${master}JobSchedule SET schedule_cron = '$cron', next_fire_utc = '$t0_sql';" > /dev/null
    echo "  T0           $t0_sql UTC (cron '$cron'), $((t0 - now)) s after the schedulers started"
    # wait until every job fired and the queue is empty (or the limit)
    deadline=$((t0 + limit))
    done_at=""
    while [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 2
        [ "$(date +%s)" -gt "$t0" ] || continue
        fired=$(cat "$dir"/sched*.log | grep -c ' fired job ' || true)
        queued=$(sql "$db" "SELECT count(*) FROM ${master}RunQueue;" | tr -d ' \r' | grep -E '^[0-9]+$' | head -n 1)
        if [ "$fired" -ge "$njobs" ] && [ "${queued:-1}" = 0 ]; then
            done_at=$(date +%s)
            break
        fi
    done
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    pids=""
    [ -n "$done_at" ] || echo "  (not finished within $limit s after T0)"
    python3 - "$dir" "$nsched" "$t0" "$njobs" "${done_at:-0}" <<'PY'
import sys, re, datetime, statistics
d, n, t0, njobs, done_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def ts(line):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})", line)
    if not m: return None
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() + int(m.group(2)) / 1000
def pct(v, p):
    if not v: return float("nan")
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
lags, fires, claims, last_fire = [], [], [], 0
idle, busy, total = [], [], 0
for i in range(1, n + 1):
    f = c = 0
    for line in open(f"{d}/sched{i}.log", errors="replace"):
        t = ts(line)
        if " - scheduler - " not in line or t is None: continue
        m = re.search(r" fired job .* lag (-?\d+) ms", line)
        if m:
            lags.append(int(m.group(1))); f += 1; last_fire = max(last_fire, t); continue
        if " claimed; executor " in line:
            claims.append(t); c += 1; continue
        m = re.search(r"tick: (\d+) statements", line)
        if m:
            s = int(m.group(1)); total += s
            (idle if t < t0 else busy).append(s)
    fires.append((f, c))
nf = sum(x[0] for x in fires); nc = sum(x[1] for x in fires)
print(f"  fires        {nf} of {njobs} (" + ", ".join(f"scheduler {i+1}: {x[0]}" for i, x in enumerate(fires)) + ")")
print(f"  fire lag     p50 {pct(lags, 50)/1000:.2f} s   p99 {pct(lags, 99)/1000:.2f} s   max {max(lags or [0])/1000:.2f} s;"
      f" last fire {last_fire - t0:.1f} s after T0")
if len(claims) > 1:
    span = max(claims) - min(claims)
    print(f"  claims       {nc} runs, {nc / span if span > 0 else float('nan'):.1f} runs/s over {span:.1f} s (" +
          ", ".join(f"scheduler {i+1}: {x[1]}" for i, x in enumerate(fires)) + ")")
else:
    print(f"  claims       {nc}")
if done_at:
    print(f"  finished     queue empty {done_at - t0} s after T0")
work = [s for s in busy if s > (statistics.median(idle) if idle else 0)]
print(f"  queries      idle tick {statistics.median(idle) if idle else float('nan'):.0f} (median of {len(idle)}),"
      f" busy tick mean {statistics.mean(work) if work else float('nan'):.1f} max {max(work or [0])} ({len(work)} ticks),"
      f" {total / nf if nf else float('nan'):.1f} per job fired (scheduler side, executors not counted)")
PY
    unset WSMS_ENV_FILE
}

echo "WSMS scheduler bench: $(nproc) cores"
for db in $dbs; do
    unset DB_TYPE DB_SERVER DB_PORT DB_NAME DB_USER DB_PASSWORD || true
    master="pmassist_master."
    [ "$db" = sqlite ] && master=""
    if [ "$db" = postgres ]; then
        sh t/lib/pg.sh start "$tmp/pg" "$(free_port)" > "$tmp/pg.env"
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
    bench_one "$db" || echo "$db: failed (see above)"
    [ "$db" = postgres ] && sh t/lib/pg.sh stop "$tmp/pg" > /dev/null 2>&1 || true
    [ "$db" = sqlserver ] && sh t/lib/tsql.sh stop "$tmp/tsql" > /dev/null 2>&1 || true
    rm -rf "${tmp:?}/$db"
done
