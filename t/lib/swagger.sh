#!/bin/sh
# The interactive API documentation at /docs: Swagger UI from the npm
# package swagger-ui-dist, pinned, installed once into a folder that nginx
# serves (never fetched from a CDN at run time), with nginx/docs/index.html.
#   sh t/lib/swagger.sh install [DIR]   (default build/cache/docs) prints DIR
# SWAGGER_UI_DIR names an existing folder instead (skips npm).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
version=5.17.14
cmd=${1:-}
dir=${2:-$top/build/cache/docs}
[ "$cmd" = install ] || { echo "usage: swagger.sh install [DIR]" >&2; exit 2; }
if [ -n "${SWAGGER_UI_DIR:-}" ]; then
    echo "$SWAGGER_UI_DIR"
    exit 0
fi
stamp=$dir/.swagger-ui-dist-$version
if [ ! -f "$stamp" ]; then
    command -v npm >/dev/null || { echo "swagger.sh: npm is missing (apt-get install npm)" >&2; exit 1; }
    mkdir -p "$dir/npm"
    log=$dir/npm-install.log
    if ! npm install --prefix "$dir/npm" --no-audit --no-fund --loglevel=error \
        "swagger-ui-dist@$version" > "$log" 2>&1; then
        echo "swagger.sh: npm install swagger-ui-dist@$version failed: $(grep -m1 -i 'err' "$log" || tail -n 1 "$log") (log: $log; behind a proxy or without a CA: update-ca-certificates, or set SWAGGER_UI_DIR)" >&2
        exit 1
    fi
    src=$dir/npm/node_modules/swagger-ui-dist
    for f in swagger-ui.css swagger-ui-bundle.js; do
        cp "$src/$f" "$dir/$f"
    done
    touch "$stamp"
fi
cp "$top/nginx/docs/index.html" "$dir/index.html"
echo "$dir"
