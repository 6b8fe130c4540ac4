#!/bin/sh
# Starts and stops a throwaway PostgreSQL cluster for tests: initdb in a temp
# dir, loopback only, on a given port. Runs the server as the `postgres`
# user when started as root (initdb refuses root).
#   sh t/lib/pg.sh start DIR PORT   -> prints DB_* settings as KEY=VALUE lines
#   sh t/lib/pg.sh stop DIR
set -eu
cmd=$1 dir=$2
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
# initdb, pg_ctl and psql run as `postgres`, which may not be able to enter
# the checkout (e.g. under /root): work from / so none of them prints
# "could not change directory"
cd /
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server not installed: apt-get install postgresql" >&2; exit 1; }
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
start)
    port=$3
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    as_pg psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE USER wsms PASSWORD 'wsms-test-pw'" >/dev/null
    as_pg psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE wsms OWNER wsms" >/dev/null
    echo "DB_TYPE=postgres"
    echo "DB_SERVER=127.0.0.1"
    echo "DB_PORT=$port"
    echo "DB_NAME=wsms"
    echo "DB_USER=wsms"
    echo "DB_PASSWORD=wsms-test-pw"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
pause)  # stop the server but keep the cluster (fault tests)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    port=$3
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
    ;;
*) echo "usage: pg.sh start|stop|pause|resume DIR [PORT]" >&2; exit 2 ;;
esac
