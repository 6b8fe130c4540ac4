#!/bin/sh
# A T-SQL database for the SQL Server suite, in one of two ways:
#  - WSMS_TEST_SQLSERVER=host,port,user,password names a real SQL Server or
#    Azure SQL: start creates a database of its own there (wsms_test_<hex>),
#    stop drops it;
#  - otherwise the shared T-SQL server for the test machines
#    (../shared/tsql-server/tsql-server beside the checkout, Babelfish over
#    TDS) is started in DIR/server and stopped again.
#
#   sh t/lib/tsql.sh start DIR          -> prints DB_* settings as KEY=VALUE lines;
#                                          exits 3 with one line on stderr when
#                                          neither is available (suite skipped)
#   sh t/lib/tsql.sh stop DIR           drops the database / stops the server
#   sh t/lib/tsql.sh query DIR FILE     runs the T-SQL batch in FILE in the run's
#                                       database (TSQL_DB=name: in that one, e.g.
#                                       master), prints the rows (tab separated);
#                                       non-zero on any error
#   sh t/lib/tsql.sh kill-sessions DIR  ends every client session of the run's
#                                       database server side
#   sh t/lib/tsql.sh pause|resume DIR   stops / starts the shared server keeping
#                                       its data (fault tests; exits 2 on a real
#                                       SQL Server, which the run does not own)
# DIR/db.env holds the settings, DIR/mode "shared" or "real". Needs tsql
# (Debian freetds-bin).
set -eu
cmd=$1 dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
server=${TSQL_SERVER:-$top/../shared/tsql-server/tsql-server}

setting() { sed -n "s/^$1=//p" "$dir/db.env" | tail -n 1; }

# tsql_run DB FILE: the batch in FILE against database DB, rows on stdout
tsql_run() {
    db=$1 file=$2
    out=$dir/tsql.out.$$
    err=$dir/tsql.err.$$
    rc=0
    { cat "$file"; printf '\ngo\n'; } |
        tsql -H "$(setting DB_SERVER)" -p "$(setting DB_PORT)" -U "$(setting DB_USER)" \
            -P "$(setting DB_PASSWORD)" -D "$db" -o fhq >"$out" 2>"$err" || rc=$?
    if [ $rc -ne 0 ] || grep -q "^Msg [0-9]" "$out" "$err"; then
        grep -hv "^Changed \(database context\|language setting\)" "$out" "$err" >&2 || true
        rm -f "$out" "$err"
        return 1
    fi
    cat "$out"
    rm -f "$out" "$err"
}

# tsql_sql DB 'T-SQL'
tsql_sql() {
    f=$dir/tsql.sql.$$
    printf '%s\n' "$2" >"$f"
    rc=0
    tsql_run "$1" "$f" || rc=$?
    rm -f "$f"
    return $rc
}

case $cmd in
start)
    mkdir -p "$dir"
    if [ -n "${WSMS_TEST_SQLSERVER:-}" ]; then
        command -v tsql >/dev/null 2>&1 || { echo "tsql not installed: apt-get install freetds-bin" >&2; exit 1; }
        old_ifs=$IFS
        IFS=,
        # shellcheck disable=SC2086
        set -- $WSMS_TEST_SQLSERVER
        IFS=$old_ifs
        [ $# -eq 4 ] || { echo "WSMS_TEST_SQLSERVER must be host,port,user,password" >&2; exit 1; }
        name=wsms_test_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
        umask 077
        printf 'DB_TYPE=sqlserver\nDB_SERVER=%s\nDB_PORT=%s\nDB_NAME=%s\nDB_USER=%s\nDB_PASSWORD=%s\n' \
            "$1" "$2" "$name" "$3" "$4" >"$dir/db.env"
        echo real >"$dir/mode"
        tsql_sql master "CREATE DATABASE $name" >/dev/null ||
            { echo "could not create database $name on $1,$2" >&2; exit 1; }
        cat "$dir/db.env"
        exit 0
    fi
    if [ ! -x "$server" ]; then
        echo "no T-SQL server ($server not found) and WSMS_TEST_SQLSERVER unset" >&2
        exit 3
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "the shared T-SQL server needs root" >&2
        exit 3
    fi
    "$server" start "$dir/server" >"$dir/db.env.new" 2>"$dir/start.log" ||
        { cat "$dir/start.log" >&2; exit 1; }
    umask 077
    mv "$dir/db.env.new" "$dir/db.env"
    echo shared >"$dir/mode"
    cat "$dir/db.env"
    ;;
stop)
    [ -f "$dir/mode" ] || exit 0
    if [ "$(cat "$dir/mode")" = real ]; then
        name=$(setting DB_NAME)
        # sessions left over (a killed test) are ended first; Babelfish
        # has no SINGLE_USER, so the DROP alone is tried as well
        tsql_sql master "ALTER DATABASE $name SET SINGLE_USER WITH ROLLBACK IMMEDIATE" >/dev/null 2>&1 || true
        tsql_sql master "IF DB_ID(N'$name') IS NOT NULL DROP DATABASE $name" >/dev/null ||
            echo "could not drop database $name" >&2
    else
        "$server" stop "$dir/server" || true
    fi
    rm -f "$dir/mode"
    ;;
query)
    tsql_run "${TSQL_DB:-$(setting DB_NAME)}" "$3"
    ;;
kill-sessions)
    if [ "$(cat "$dir/mode")" = real ]; then
        name=$(setting DB_NAME)
        tsql_sql master "DECLARE @k NVARCHAR(MAX) = N'';
SELECT @k = @k + N'KILL ' + CAST(session_id AS NVARCHAR(12)) + N';' FROM sys.dm_exec_sessions
 WHERE database_id = DB_ID(N'$name') AND session_id <> @@SPID AND is_user_process = 1;
EXEC(@k);" >/dev/null
    else
        "$server" kill-sessions "$dir/server" >/dev/null
    fi
    ;;
pause | resume)
    [ "$(cat "$dir/mode")" = shared ] || { echo "pause/resume: not on a real SQL Server" >&2; exit 2; }
    if [ "$cmd" = pause ]; then
        "$server" stop "$dir/server"
    else
        # tsql-server has no resume: start the same cluster again (its
        # postgresql.conf keeps the ports) the way its start does
        root=${TSQL_SERVER_ROOT:-/opt/babelfish}
        runuser -u postgres -- env LD_LIBRARY_PATH="$root/pg/lib" "$root/pg/bin/pg_ctl" \
            -D "$dir/server/data" -l "$dir/server/server.log" -w -t 60 start >/dev/null
    fi
    ;;
*) echo "usage: tsql.sh start|stop|query|kill-sessions|pause|resume DIR [FILE]" >&2; exit 2 ;;
esac
