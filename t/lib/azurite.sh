#!/bin/sh
# azurite.sh: start/stop Azurite's blob service on a loopback port with its
# data in a temporary folder, for the blob unit test and integration tests.
#
#   sh t/lib/azurite.sh install     make sure Azurite is installed; prints
#                                   the azurite-blob path
#   sh t/lib/azurite.sh start DIR   start it; writes DIR/azurite.pid,
#                                   DIR/azurite.port, DIR/azurite.log, data
#                                   in DIR/azurite-data; prints the port
#   sh t/lib/azurite.sh stop DIR    stop it and remove DIR/azurite-data
#   sh t/lib/azurite.sh connstr DIR print a connection string for it
#
# Azurite comes from npm: `npm install --prefix $CACHE azurite` into
# CACHE=${WSMS_CACHE:-$HOME/.cache/wsms}/azurite when missing (AZURITE_BIN
# overrides the binary). Any failure exits non-zero with a message: tests
# that need Azurite fail loudly instead of skipping.
set -eu

cache="${WSMS_CACHE:-${HOME:-/tmp}/.cache/wsms}/azurite"
dev_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

usage() {
    echo "usage: $0 install | start DIR | stop DIR | connstr DIR" >&2
    exit 2
}

install_azurite() {
    if [ -n "${AZURITE_BIN:-}" ]; then
        [ -x "$AZURITE_BIN" ] || { echo "azurite.sh: AZURITE_BIN=$AZURITE_BIN is not executable" >&2; exit 1; }
        echo "$AZURITE_BIN"
        return
    fi
    bin="$cache/node_modules/.bin/azurite-blob"
    if [ ! -x "$bin" ]; then
        command -v npm >/dev/null 2>&1 || {
            echo "azurite.sh: npm not found (apt-get install npm) and Azurite is not in $cache" >&2
            exit 1
        }
        command -v node >/dev/null 2>&1 || { echo "azurite.sh: node not found" >&2; exit 1; }
        mkdir -p "$cache"
        echo "azurite.sh: installing Azurite into $cache" >&2
        if ! npm install --prefix "$cache" --no-audit --no-fund azurite >&2; then
            echo "azurite.sh: npm install azurite failed" >&2
            exit 1
        fi
        [ -x "$bin" ] || { echo "azurite.sh: $bin missing after npm install" >&2; exit 1; }
    fi
    echo "$bin"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_open() {
    python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

[ $# -ge 1 ] || usage
cmd=$1

case "$cmd" in
install)
    install_azurite
    ;;
start)
    [ $# -eq 2 ] || usage
    dir=$2
    mkdir -p "$dir"
    if [ -f "$dir/azurite.pid" ] && kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null; then
        echo "azurite.sh: already running (pid $(cat "$dir/azurite.pid"))" >&2
        exit 1
    fi
    bin=$(install_azurite)
    rm -rf "$dir/azurite-data"
    mkdir -p "$dir/azurite-data"
    port=$(free_port)
    "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/azurite-data" \
        --skipApiVersionCheck --loose --disableProductStyleUrl --disableTelemetry --silent \
        >"$dir/azurite.log" 2>&1 </dev/null &
    echo $! >"$dir/azurite.pid"
    i=0
    until port_open "$port"; do
        if ! kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null; then
            echo "azurite.sh: Azurite exited; log follows" >&2
            cat "$dir/azurite.log" >&2
            exit 1
        fi
        i=$((i + 1))
        if [ $i -gt 300 ]; then
            echo "azurite.sh: Azurite did not listen on port $port within 30 s" >&2
            kill "$(cat "$dir/azurite.pid")" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
    echo "$port" >"$dir/azurite.port"
    echo "$port"
    ;;
stop)
    [ $# -eq 2 ] || usage
    dir=$2
    if [ -f "$dir/azurite.pid" ]; then
        pid=$(cat "$dir/azurite.pid")
        if kill "$pid" 2>/dev/null; then
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir/azurite-data"
    rm -f "$dir/azurite.pid" "$dir/azurite.port"
    ;;
connstr)
    [ $# -eq 2 ] || usage
    dir=$2
    [ -s "$dir/azurite.port" ] || { echo "azurite.sh: not running in $dir" >&2; exit 1; }
    echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$dev_key;BlobEndpoint=http://127.0.0.1:$(cat "$dir/azurite.port")/devstoreaccount1;"
    ;;
*)
    usage
    ;;
esac
