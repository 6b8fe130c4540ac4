#!/bin/sh
# Installs the Debian 12 packages WSMS needs to build, run and test
# (t/dev/packages.txt). Skips apt-get when everything is there already.
# apt's own progress is shown. Packages that come with a service (nginx,
# PostgreSQL) are installed with a temporary /usr/sbin/policy-rc.d that
# forbids starting services, and the units of packages installed here are
# disabled afterwards: the project runs its own nginx and PostgreSQL
# cluster, never Debian's on ports 80 and 5432.
set -eu
list=$(dirname "$0")/packages.txt
missing=""
for p in $(cat "$list"); do
    # a Node.js from elsewhere (e.g. NodeSource, which bundles npm and
    # conflicts with Debian's npm package) is fine for Azurite
    case $p in nodejs | npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Swagger UI for /docs (npm, pinned; once, into build/cache/docs)
docs() {
    echo "install-deps: swagger-ui-dist for /docs (t/lib/swagger.sh)"
    sh "$(dirname "$0")/../lib/swagger.sh" install >/dev/null ||
        echo "install-deps: /docs answers 404 until t/lib/swagger.sh install succeeds" >&2
}
if [ -z "$missing" ]; then
    echo "install-deps: all packages of t/dev/packages.txt are installed"
    docs
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "missing packages:$missing" >&2
    echo "run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "install-deps: missing:$missing"
export DEBIAN_FRONTEND=noninteractive

# no service of these packages starts during the install (invoke-rc.d and
# deb-systemd-invoke ask policy-rc.d; 101 = action forbidden); an existing
# policy-rc.d is the administrator's and is left alone
policy=/usr/sbin/policy-rc.d
own_policy=""
restore() {
    [ -n "$own_policy" ] && rm -f "$policy"
    own_policy=""
}
trap restore EXIT
trap 'restore; exit 1' INT TERM HUP
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from WSMS t/dev/install-deps.sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=1
fi

echo "install-deps: apt-get update"
apt-get update
echo "install-deps: apt-get install"
apt-get install -y --no-install-recommends $missing
restore

# the packages installed here stay disabled at boot, too
if [ -d /run/systemd/system ]; then
    for p in $missing; do
        case $p in
        nginx-light) unit=nginx.service ;;
        postgresql) unit=postgresql.service ;;
        *) continue ;;
        esac
        echo "install-deps: systemctl disable $unit (WSMS runs its own)"
        systemctl disable --quiet "$unit" 2>/dev/null || true
    done
fi
docs
echo "install-deps: done"
