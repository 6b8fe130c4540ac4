#!/bin/sh
# make fuzz: builds every libFuzzer target t/fuzz/fuzz_<name>.c with clang
# (-fsanitize=fuzzer,address,undefined) against the service sources, runs
# each for FUZZ_SECONDS (30) from the seed corpus t/fuzz/corpus/<name>/ and
# the regressions t/fuzz/regressions/<name>/, and exits non-zero when any
# target crashed (the input is left in build/fuzz/artifacts/).
#   sh t/fuzz/run.sh [name...]      (default: every target)
# Settings: FUZZ_SECONDS (30), FUZZ_JOBS (1; more runs libFuzzer's -fork=N
# processes per target), CLANG (clang). Needs the Debian packages clang and
# libclang-rt-14-dev (t/dev/packages.txt).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
cc=${CLANG:-clang}
out=build/fuzz
command -v "$cc" >/dev/null || { echo "$cc missing: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
[ -f config.mk ] || { echo "run ./configure (or make) first" >&2; exit 1; }

# the flags and libraries the Makefile uses (config.mk)
mkvar() { sed -n "s/^$1 = //p" config.mk | head -n 1; }
pkg_cflags="$(mkvar CJSON_CFLAGS) $(mkvar ODBC_CFLAGS) $(mkvar JWT_CFLAGS) $(mkvar OPENSSL_CFLAGS) $(mkvar CURL_CFLAGS)"
libs="$(mkvar FCGI_LIBS) $(mkvar CJSON_LIBS) $(mkvar ODBC_LIBS) $(mkvar JWT_LIBS) $(mkvar CURL_LIBS) $(mkvar OPENSSL_LIBS)"
driver_dir=$(mkvar ODBC_DRIVER_DIR)

# build/asan/gen/embedded.c (schemas and openapi.json) comes from the Makefile
make -s VARIANT=asan build/asan/gen/embedded.c >/dev/null

warn="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
-Wmissing-prototypes -Wno-unused-parameter"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# the quotes around the driver directory are part of the macro's value
# shellcheck disable=SC2089
cflags="-O1 -g -fno-omit-frame-pointer $san -Iinclude -Ibuild/asan/gen -It/lib $pkg_cflags \
-DODBC_DRIVER_DIR=\"$driver_dir\""

mkdir -p "$out/obj" "$out/artifacts"
objs=""
for src in src/*/*.c src/*/*/*.c build/asan/gen/embedded.c t/lib/tokens.c; do
    # objects named by path: two layers may each have a module of one name
    o=$out/obj/$(echo "${src%.c}" | tr / _).o
    if [ ! -f "$o" ] || [ -n "$(find "$src" include t/lib -newer "$o" \( -name '*.h' -o -name "$(basename "$src")" \) 2>/dev/null | head -n 1)" ]; then
        # err.c's "#name + 2" is deliberate; clang warns about it
        extra=-Wno-string-plus-int
        [ "$src" = build/asan/gen/embedded.c ] && extra="$extra -Wno-missing-prototypes"
        # shellcheck disable=SC2086,SC2090
        "$cc" $warn $extra $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$o"
    fi
    objs="$objs $o"
done

targets=${*:-$(for f in t/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
max_len() {
    case $1 in
    json) echo 8192 ;;
    jwks) echo 16384 ;;
    jwt) echo 6144 ;;
    *) echo 4096 ;;
    esac
}

crashed=""
for t in $targets; do
    bin=$out/fuzz_$t
    # shellcheck disable=SC2086,SC2090
    "$cc" $warn -Werror $cflags -fsanitize=fuzzer "t/fuzz/fuzz_$t.c" $objs -o "$bin" $libs
    work=$out/corpus-$t
    mkdir -p "$work" "t/fuzz/regressions/$t"
    echo "== fuzz_$t: ${secs}s, -max_len=$(max_len "$t")"
    # replay the regressions first: a fixed bug must stay fixed
    if ls "t/fuzz/regressions/$t"/* >/dev/null 2>&1; then
        if ! ASAN_OPTIONS=detect_leaks=1 "$bin" t/fuzz/regressions/"$t"/* >"$out/$t-regress.log" 2>&1; then
            tail -n 40 "$out/$t-regress.log"
            crashed="$crashed $t(regression)"
            continue
        fi
    fi
    par=""
    [ "$jobs" -gt 1 ] && par="-fork=$jobs"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$secs" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 $par -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$t-" "$work" "t/fuzz/corpus/$t" >"$out/$t.log" 2>&1; then
        grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done )" "$out/$t.log" | tr '\n' ' '
        echo
    else
        tail -n 60 "$out/$t.log"
        echo "fuzz_$t CRASHED; inputs:" "$out"/artifacts/"$t"-* 
        crashed="$crashed $t"
    fi
done
if [ -n "$crashed" ]; then
    echo "crashes in:$crashed (copy the input into t/fuzz/regressions/<name>/ once understood)"
    exit 1
fi
echo "no crashes"
