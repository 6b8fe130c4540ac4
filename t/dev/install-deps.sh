#!/bin/sh
# Installs the Debian 12 packages WSMS needs to build, run and test
# (t/dev/packages.txt). Skips apt-get when everything is there already.
set -eu
list=$(dirname "$0")/packages.txt
missing=""
for p in $(cat "$list"); do
    # a Node.js from elsewhere (e.g. NodeSource, which bundles npm and
    # conflicts with Debian's npm package) is fine for Azurite
    case $p in nodejs | npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing packages:$missing" >&2
    echo "run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# nginx-light would pull nginx's default site up as a service; we run our own
apt-get install -y -qq --no-install-recommends $missing >/dev/null
