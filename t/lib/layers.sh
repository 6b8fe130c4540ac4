#!/bin/sh
# The inclusion rule (README "Layout"): a module in src/<layer>/ or
# include/<layer>/ includes only headers of its own layer or a lower one,
# always as "<layer>/<module>.h". Layers are given lowest first:
#   sh t/lib/layers.sh core http data outbound auth domain api server
# Prints one line per offending include and exits 1; "layers: ok" otherwise.
set -u
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || { echo "usage: layers.sh LAYER... (lowest first)" >&2; exit 2; }
bad=0 files=0 rank=0 order=""
for l in "$@"; do
    rank=$((rank + 1))
    order="$order $l=$rank"
done
rank_of() {
    for p in $order; do
        [ "${p%%=*}" = "$1" ] && { echo "${p#*=}"; return; }
    done
    echo 0
}
for l in "$@"; do
    mine=$(rank_of "$l")
    for f in src/"$l"/*.c src/"$l"/*/*.c include/"$l"/*.h include/"$l"/*/*.h; do
        [ -e "$f" ] || continue
        files=$((files + 1))
        # "<layer>/<header>" includes only; system headers use <...>
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
            sed 's/^\([0-9]*\):.*"\(.*\)".*/\1 \2/' > "${TMPDIR:-/tmp}/layers.$$"
        while read -r line inc; do
            case $inc in
            */*) dep=${inc%%/*} ;;
            *)
                echo "$f:$line: #include \"$inc\" names no layer (write \"<layer>/$inc\")"
                bad=$((bad + 1))
                continue
                ;;
            esac
            theirs=$(rank_of "$dep")
            if [ "$theirs" -eq 0 ]; then
                echo "$f:$line: #include \"$inc\": $dep is not a layer ($*)"
                bad=$((bad + 1))
            elif [ ! -e "include/$inc" ]; then
                echo "$f:$line: #include \"$inc\": no such header include/$inc"
                bad=$((bad + 1))
            elif [ "$theirs" -gt "$mine" ]; then
                echo "$f:$line: #include \"$inc\": $l may not include the higher layer $dep"
                bad=$((bad + 1))
            fi
        done < "${TMPDIR:-/tmp}/layers.$$"
        rm -f "${TMPDIR:-/tmp}/layers.$$"
    done
done
# every source file must sit in a layer
for f in src/*.c; do
    [ "$f" = src/main.c ] || [ ! -e "$f" ] || { echo "$f: not in a layer folder"; bad=$((bad + 1)); }
done
for f in include/*.h; do
    [ -e "$f" ] && { echo "$f: not in a layer folder"; bad=$((bad + 1)); }
done
if [ "$bad" -gt 0 ]; then
    echo "layers: $bad include(s) break the layer rule in $files files"
    exit 1
fi
echo "layers: ok ($files files in $# layers)"
