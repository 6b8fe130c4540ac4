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
# Azurite comes from npm, pinned with all its dependencies by
# t/lib/azurite/package-lock.json (Azurite 3.33.0; every package there
# declares engines that include Debian 12's Node 18 and Node 20): `npm ci`
# into CACHE=${WSMS_CACHE:-<checkout>/build/cache}/azurite-VERSION when
# missing or installed from another lock file, npm's output in
# CACHE.npm.log. AZURITE_BIN names an existing azurite-blob
# instead. t/run installs once before the test binaries start and hands the
# result down (AZURITE_BIN, or WSMS_AZURITE_ERROR so that no binary retries
# npm). Any failure exits non-zero with a message saying what failed: tests
# that need Azurite fail loudly instead of skipping.
set -eu

AZURITE_VERSION=3.33.0
top=$(cd "$(dirname "$0")/../.." && pwd)
lock=$top/t/lib/azurite
cache="${WSMS_CACHE:-$top/build/cache}/azurite-$AZURITE_VERSION"
dev_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

usage() {
    echo "usage: $0 install | start DIR | stop DIR | connstr DIR" >&2
    exit 2
}

# how to get past a failed install, after the reason
hints() {
    cat >&2 <<HINTS
azurite.sh: to supply Azurite without npm here, either
  - set AZURITE_BIN to an existing azurite-blob (Azurite $AZURITE_VERSION), or
  - copy $cache from a machine where this
    install worked (WSMS_CACHE moves the cache directory);
  behind a TLS-inspecting proxy, put its CA certificate in
  /usr/local/share/ca-certificates/ and run update-ca-certificates (Debian's
  node uses the system store; another node needs
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt), and set
  npm config set proxy/https-proxy if the registry needs a proxy
HINTS
}

install_azurite() {
    if [ -n "${AZURITE_BIN:-}" ]; then
        [ -x "$AZURITE_BIN" ] || { echo "azurite.sh: AZURITE_BIN=$AZURITE_BIN is not executable" >&2; exit 1; }
        echo "$AZURITE_BIN"
        return
    fi
    bin="$cache/node_modules/.bin/azurite-blob"
    if [ -x "$bin" ] && cmp -s "$lock/package-lock.json" "$cache/package-lock.json"; then
        echo "$bin"
        return
    fi
    if [ -n "${WSMS_AZURITE_ERROR:-}" ]; then
        # t/run tried once for this run already: do not retry npm
        echo "azurite.sh: Azurite is not installed: $WSMS_AZURITE_ERROR (see the install message at the top of this run)" >&2
        exit 1
    fi
    for tool in node npm; do
        command -v $tool >/dev/null 2>&1 || {
            echo "azurite.sh: $tool not found (sh t/dev/install-deps.sh, or apt-get install nodejs npm) and Azurite $AZURITE_VERSION is not in $cache" >&2
            hints
            exit 1
        }
    done
    log="$cache.npm.log"
    mkdir -p "$(dirname "$cache")"
    rm -rf "$cache.partial"
    mkdir "$cache.partial"
    cp "$lock/package.json" "$lock/package-lock.json" "$cache.partial/"
    echo "azurite.sh: installing Azurite $AZURITE_VERSION (node $(node --version)) into $cache; npm's output: $log" >&2
    # into a side folder, moved in place only when complete
    if (cd "$cache.partial" && npm ci --no-audit --no-fund) >"$log" 2>&1 </dev/null &&
        [ -x "$cache.partial/node_modules/.bin/azurite-blob" ]; then
        rm -rf "$cache"
        mv "$cache.partial" "$cache"
        echo "$bin"
        return
    fi
    rm -rf "$cache.partial"
    # npm's own reason: its error code and first message line (npm 9
    # writes "npm ERR! ...", npm 10+ "npm error ...")
    why=$(awk '{ sub(/^npm (ERR!|error) ?/, "") || $0 = "" }
        /^code / && !code { code = $2; next }
        /^(syscall|errno) / || /^[ \t]/ || /^A complete log/ || /^Log files/ || $0 == "" { next }
        !msg { msg = $0 }
        END { if (code || msg) print (code ? code ": " : "") msg }' "$log")
    [ -n "$why" ] || why=$(grep -v '^ *$' "$log" | tail -n 1)
    echo "azurite.sh: npm ci (Azurite $AZURITE_VERSION, t/lib/azurite/package-lock.json) failed: ${why:-no output}" >&2
    echo "azurite.sh: npm's full output: $log" >&2
    hints
    exit 1
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
        --skipApiVersionCheck --loose --disableProductStyleUrl --silent \
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
