#!/bin/sh
# Starts and stops the real stack on loopback: nginx -> spawn-fcgi ->
# `wsmsd --workers N` -> database. Used by the test harness (t/run), the
# benchmarks and the local run (t/dev/run.sh).
#
#   sh t/lib/stack.sh start DIR     env in: WSMSD (binary), WSMS_WORKERS (4),
#                                   STACK_PORT (free port), STACK_ENV (extra
#                                   KEY=VALUE lines file), DB_* settings,
#                                   STACK_SOCKETS (see below)
#   sh t/lib/stack.sh stop DIR
#
# start writes DIR/wsms.env (the worker configuration), DIR/url, and logs to
# DIR/wsmsd.log; it prints the URL.
#
# nginx reaches the workers over a Unix socket, DIR/fcgi-1.sock, as in
# production (nginx/wsms.conf, systemd/wsms@.socket); STACK_FCGI=tcp puts
# them on a loopback port instead (a comparison, README "Benchmarks"), as
# does a DIR too deep for a socket path (a line on stderr says so).
#
# STACK_SOCKETS=N (N >= 1) starts N spawn-fcgi instances instead of one, each
# running `wsmsd --workers 1` on its own socket (DIR/fcgi-N.sock), all listed
# in nginx's upstream: the production shape (one socket per systemd worker
# instance), so `fastcgi_next_upstream` can retry an idempotent request on
# another worker. DIR/wsmsd.pid then holds one supervisor pid per line (in
# socket order) and DIR/fcgi_sockets every address (a path, or host:port);
# DIR/fcgi_socket is the first one. stop stops all.
#
# STACK_SCHEDULERS=N (default 0) also starts N `wsmsd scheduler` processes
# on the same settings (their log lines go to DIR/wsmsd.log too), pids in
# DIR/scheduler.pid; stop sends them SIGTERM (they drain) before the rest.
set -eu
cmd=$1 dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# spawn-fcgi's options for an address: a socket path (-s, mode 0600: only
# this user's nginx connects) or host:port
spawn_addr() {
    case $1 in
    /*) echo "-s $1 -M 0600" ;;
    *) echo "-a ${1%:*} -p ${1##*:}" ;;
    esac
}

stop_stack() {
    if [ -f "$dir/scheduler.pid" ]; then
        spids=$(cat "$dir/scheduler.pid")
        for pid in $spids; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in $spids; do
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.1; i=$((i + 1)); done
            kill -KILL "$pid" 2>/dev/null || true
        done
        rm -f "$dir/scheduler.pid"
    fi
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    if [ -f "$dir/wsmsd.pid" ]; then
        # one supervisor pid per line (several with STACK_SOCKETS)
        pids=$(cat "$dir/wsmsd.pid")
        for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in $pids; do
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            kill -KILL "$pid" 2>/dev/null || true
        done
        rm -f "$dir/wsmsd.pid" "$dir"/wsmsd.pid.* "$dir"/fcgi-*.sock
    fi
    i=0
    while [ -f "$dir/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

case $cmd in
start)
    mkdir -p "$dir"
    wsmsd=${WSMSD:-$top/build/release/wsmsd}
    port=${STACK_PORT:-$(free_port)}
    workers=${WSMS_WORKERS:-4}
    sockets=${STACK_SOCKETS:-0}
    case $sockets in ''|*[!0-9]*) echo "STACK_SOCKETS must be a number" >&2; exit 2 ;; esac
    fcgi=${STACK_FCGI:-unix}
    case $fcgi in unix|tcp) ;; *) echo "STACK_FCGI must be unix or tcp" >&2; exit 2 ;; esac
    # sun_path holds 108 bytes: a deeper folder falls back to a port
    sockdir=$(cd "$dir" && pwd)
    if [ "$fcgi" = unix ] && [ ${#sockdir} -gt 80 ]; then
        echo "stack: $sockdir is too long a path for a Unix socket; the workers listen on a loopback port" >&2
        fcgi=tcp
    fi
    # the workers' addresses: socket paths, or loopback host:port
    faddrs=""
    n=0
    while [ $n -lt "$sockets" ] || [ $n -eq 0 ]; do
        n=$((n + 1))
        if [ "$fcgi" = unix ]; then
            a="$sockdir/fcgi-$n.sock"
            rm -f "$a"
        else
            a="127.0.0.1:$(free_port)"
            case " $faddrs " in *" $a "*) n=$((n - 1)); continue ;; esac
        fi
        faddrs="${faddrs:+$faddrs }$a"
    done
    faddr=${faddrs%% *}
    # the upstream's server lines: the template holds `server @FCGI@;`
    upstream=""
    for a in $faddrs; do
        case $a in /*) a="unix:$a" ;; esac
        upstream="${upstream:+$upstream; server }$a"
    done
    {
        echo "LOG_LEVEL=${LOG_LEVEL:-INFO}"
        echo "DB_TYPE=${DB_TYPE:-sqlite}"
        echo "DB_PATH=${DB_PATH:-$dir/data}"
        for v in DB_SERVER DB_PORT DB_NAME DB_USER DB_PASSWORD DB_DRIVER DB_DSN; do
            eval "val=\${$v:-}"
            [ -n "$val" ] && echo "$v=$val"
        done
        echo "WSMS_LOG_FILE=$dir/wsmsd.log"
        echo "WSMS_RUN_DIR=$dir"
        if [ -n "${STACK_ENV:-}" ]; then cat "$STACK_ENV"; fi
    } > "$dir/wsms.env"
    chmod 600 "$dir/wsms.env"
    # the environment of this script must not override the file
    unset DB_TYPE DB_PATH DB_SERVER DB_PORT DB_NAME DB_USER DB_PASSWORD DB_DRIVER DB_DSN LOG_LEVEL || true
    export WSMS_ENV_FILE="$dir/wsms.env"
    "$wsmsd" migrate > "$dir/migrate.log" 2>&1 || { cat "$dir/migrate.log" >&2; exit 1; }
    user_line=""
    [ "$(id -u)" = 0 ] && user_line="user root;"
    max_body=$(sed -n 's/^MAX_BODY_BYTES=//p' "$dir/wsms.env" | tail -n 1)
    timeout=$(sed -n 's/^WSMS_REQUEST_TIMEOUT_SECONDS=//p' "$dir/wsms.env" | tail -n 1)
    sed -e "s#@RUNDIR@#$dir#g" -e "s#@PORT@#$port#g" -e "s#@FCGI@#$upstream#g" \
        -e "s#@USER@#$user_line#g" -e "s#@MAX_BODY@#${max_body:-1048576}#g" \
        -e "s#@DOCS@#${WSMS_DOCS_DIR:-$top/build/cache/docs}#g" \
        -e "s#@READ_TIMEOUT@#$(( ${timeout:-30} + 15 ))#g" \
        "$top/nginx/wsms-dev.conf.in" > "$dir/nginx.conf"
    if [ "${STACK_LAUNCHER:-spawn-fcgi}" = socket-activate ]; then
        # one worker handed its socket the way systemd does (LISTEN_FDS)
        # it passes on only the variables named with -E: the run's
        # odbcinst.ini (no psqlODBC CommLog) too
        systemd-socket-activate -l "$faddr" -E WSMS_ENV_FILE="$dir/wsms.env" \
            ${ODBCSYSINI:+-E ODBCSYSINI="$ODBCSYSINI"} "$wsmsd" >> "$dir/wsmsd.log" 2>&1 &
        echo $! > "$dir/wsmsd.pid"
    elif [ "$sockets" -ge 1 ]; then
        # one `wsmsd --workers 1` per socket, like one systemd instance each
        : > "$dir/wsmsd.pid"
        n=0
        for a in $faddrs; do
            n=$((n + 1))
            spawn-fcgi $(spawn_addr "$a") -P "$dir/wsmsd.pid.$n" -- \
                "$wsmsd" --workers 1 >> "$dir/wsmsd.log" 2>&1 ||
                { cat "$dir/wsmsd.log" >&2; stop_stack; exit 1; }
            # spawn-fcgi writes the pid without a newline
            echo "$(cat "$dir/wsmsd.pid.$n")" >> "$dir/wsmsd.pid"
            rm -f "$dir/wsmsd.pid.$n"
        done
    else
        spawn-fcgi $(spawn_addr "$faddr") -P "$dir/wsmsd.pid" -- \
            "$wsmsd" --workers "$workers" >> "$dir/wsmsd.log" 2>&1 ||
            { cat "$dir/wsmsd.log" >&2; exit 1; }
    fi
    # spawn-fcgi returns at once; the supervisor logs to its inherited stderr
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" 2>>"$dir/nginx-error.log" ||
        { cat "$dir/nginx-error.log" >&2; stop_stack; exit 1; }
    url="http://127.0.0.1:$port"
    i=0
    until curl -fsS "$url/health" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "stack did not become healthy; logs in $dir" >&2
            tail -n 20 "$dir/wsmsd.log" "$dir/nginx-error.log" >&2 || true
            stop_stack
            exit 1
        fi
        sleep 0.1
    done
    schedulers=${STACK_SCHEDULERS:-0}
    case $schedulers in ''|*[!0-9]*) echo "STACK_SCHEDULERS must be a number" >&2; stop_stack; exit 2 ;; esac
    n=0
    : > "$dir/scheduler.pid"
    while [ $n -lt "$schedulers" ]; do
        "$wsmsd" scheduler >> "$dir/wsmsd.log" 2>&1 &
        echo $! >> "$dir/scheduler.pid"
        n=$((n + 1))
    done
    echo "$url" > "$dir/url"
    echo "$faddr" > "$dir/fcgi_socket"
    echo "$faddrs" | tr ' ' '\n' > "$dir/fcgi_sockets"
    echo "$url"
    ;;
stop)
    stop_stack
    ;;
*)
    echo "usage: stack.sh start|stop DIR" >&2
    exit 2
    ;;
esac
