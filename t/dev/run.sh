#!/bin/sh
# Local run: installs what is missing, builds, migrates the embedded SQLite
# database and starts nginx on 127.0.0.1:8080 in front of spawn-fcgi
# workers. Ctrl-C stops it; so does `sh t/dev/run.sh stop` from another
# terminal. Settings come from ./.env (created on first run).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
rundir=$top/run
if [ "${1:-}" = stop ]; then
    sh t/lib/stack.sh stop "$rundir"
    echo "WSMS stopped"
    exit 0
fi
sh t/dev/install-deps.sh
make -s all
if [ ! -f .env ]; then
    secret=$(openssl rand -hex 32)
    cat > .env <<ENV
# Created by t/dev/run.sh; see README.md "Configuration" for every setting.
PMA_TOKEN_SECRET=$secret
DB_TYPE=sqlite
DB_PATH=$top/data
# Your Entra ID tenant and the API's audience (app ID URI or client id).
AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000
AZURE_AUDIENCE=api://wsms-local
LOG_LEVEL=INFO
ENV
    chmod 600 .env
    echo "created .env (edit AZURE_TENANT_ID and AZURE_AUDIENCE to sign in with Entra ID)"
fi
sh t/lib/stack.sh stop "$rundir" >/dev/null 2>&1 || true
export STACK_ENV=$top/.env STACK_PORT=${WSMS_PORT:-8080} WSMS_WORKERS=${WSMS_WORKERS:-4}
export DB_PATH=${DB_PATH:-$top/data}
url=$(sh t/lib/stack.sh start "$rundir")
trap 'sh t/lib/stack.sh stop "$rundir"; echo; echo "WSMS stopped"; exit 0' INT TERM
cat <<MSG

WSMS is running: $url
  health:    curl $url/health
  database:  curl $url/db/status
  API docs:  $url/openapi.json
Logs follow; press Ctrl-C to stop (or run: sh t/dev/run.sh stop).

MSG
tail -n 0 -f "$rundir/wsmsd.log" &
wait
