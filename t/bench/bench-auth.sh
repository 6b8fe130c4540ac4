# Authenticated requests; sourced by t/bench/bench.sh (uses its run_wrk,
# ratio, $tmp, $health, $conns, $secs, $tmp/keys/key.pem with kid
# bench-key and $tmp/bench.env). Figures only, like the rest of make bench.
#   1. GET /integrations/jira/projects: auth only (both tokens verified, no
#      database), answered 503 INTEGRATION_NOT_CONFIGURED on the bench stack
#   2. GET /workspaces/{id}: auth + the caller's role from the database +
#      the workspace read
# each once with the same Entra token on every request (the workers'
# verification cache hits) and once with a different token per request
# (BENCH_TOKENS of them, default 4000, more than the 1024-entry cache of a
# worker holds, so every request pays an RSA signature check).
# POSIX sh; bench.sh runs with set -eu.
# shellcheck disable=SC2154

auth_fail() {
    echo "bench-auth: $*" >&2
    return 1
}

auth_bench() {
    ntok=${BENCH_TOKENS:-4000}
    # run_wrk reassigns $url: the stack's base URL is in its directory
    base=$(cat "$tmp/stack/url")
    mint=build/release/bench/mint # built by make bench
    [ -x "$mint" ] || { auth_fail "no $mint"; return 1; }
    tenant=$(sed -n 's/^AZURE_TENANT_ID=//p' "$tmp/bench.env")
    aud=$(sed -n 's/^AZURE_AUDIENCE=//p' "$tmp/bench.env")
    oid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    email="bench-${oid%%-*}@example.com"
    "$mint" "$tmp/keys/key.pem" bench-key "$tenant" "$aud" "$oid" "$email" 1 > "$tmp/entra1.txt" ||
        { auth_fail "minting failed"; return 1; }
    start=$(date +%s)
    "$mint" "$tmp/keys/key.pem" bench-key "$tenant" "$aud" "$oid" "$email" "$ntok" > "$tmp/entra-many.txt" ||
        { auth_fail "minting failed"; return 1; }
    echo "(minted $ntok Entra tokens for one user in $(( $(date +%s) - start ))s)"
    entra=$(cat "$tmp/entra1.txt")

    # a PMA token from /auth/validate (it only has to name the same user)
    curl -fsS -X POST -H "Authorization: Bearer $entra" "$base/auth/validate" > "$tmp/validate.json" ||
        { auth_fail "/auth/validate failed"; return 1; }
    pma=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pma_token"])' "$tmp/validate.json")

    # a workspace of this user's, for the role lookup
    curl -fsS -X POST -H "Authorization: Bearer $entra" -H "X-PMA-Token: $pma" \
        -H "Content-Type: application/json" -d '{"name":"bench workspace"}' \
        "$base/workspaces" > "$tmp/ws.json" || { auth_fail "POST /workspaces failed"; return 1; }
    ws=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/ws.json")
    pma=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pma_token"])' "$tmp/ws.json")

    # every token must pass before its numbers mean anything: jira 503, workspace 200
    for t in "$entra" "$(head -n 1 "$tmp/entra-many.txt")" "$(tail -n 1 "$tmp/entra-many.txt")"; do
        st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" -H "X-PMA-Token: $pma" "$base/integrations/jira/projects")
        [ "$st" = 503 ] || { auth_fail "jira route answered $st, wanted 503 (auth failed?)"; return 1; }
        st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" -H "X-PMA-Token: $pma" "$base/workspaces/$ws")
        [ "$st" = 200 ] || { auth_fail "GET /workspaces/{id} answered $st, wanted 200"; return 1; }
    done

    # a different Entra token per request; each wrk thread starts at its own offset
    cat > "$tmp/fresh.lua" <<'LUA'
local tokens, i, nthreads = {}, 0, 0
local pma = os.getenv("BENCH_PMA")
function setup(thread)
    thread:set("id", nthreads)
    nthreads = nthreads + 1
end
function init(args)
    for line in io.lines(os.getenv("BENCH_TOKEN_FILE")) do tokens[#tokens + 1] = line end
    i = math.floor((id or 0) * #tokens / 2)
end
function request()
    i = i % #tokens + 1
    return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. tokens[i], ["X-PMA-Token"] = pma})
end
LUA
    export BENCH_PMA="$pma" BENCH_TOKEN_FILE="$tmp/entra-many.txt"

    echo
    run_wrk "auth only, same token (503 expected)" "$base/integrations/jira/projects" \
        -H "Authorization: Bearer $entra" -H "X-PMA-Token: $pma"
    jira_hit=$RPS jira_hit_p99=$P99
    run_wrk "auth only, new token per request (503)" "$base/integrations/jira/projects" \
        -s "$tmp/fresh.lua"
    jira_fresh=$RPS jira_fresh_p99=$P99
    run_wrk "GET /workspaces/{id}, same token" "$base/workspaces/$ws" \
        -H "Authorization: Bearer $entra" -H "X-PMA-Token: $pma"
    ws_hit=$RPS ws_hit_p99=$P99 ws_hit_bad=${non2xx:-}
    run_wrk "GET /workspaces/{id}, new token per request" "$base/workspaces/$ws" -s "$tmp/fresh.lua"
    ws_fresh=$RPS ws_fresh_p99=$P99 ws_fresh_bad=${non2xx:-}
    [ -z "$ws_hit_bad$ws_fresh_bad" ] || echo "WARNING: GET /workspaces/{id} had non-2xx answers: the figures above are not all authenticated reads"

    echo
    echo "authenticated requests vs GET /health ($health req/s)"
    printf '  auth only, cache hit      %8.0f req/s  p99 %7.2f ms  ratio %s   (goal >= 0.70)\n' \
        "$jira_hit" "$jira_hit_p99" "$(ratio "$jira_hit" "$health")"
    printf '  auth only, fresh token    %8.0f req/s  p99 %7.2f ms  ratio %s\n' \
        "$jira_fresh" "$jira_fresh_p99" "$(ratio "$jira_fresh" "$health")"
    printf '  workspace get, cache hit  %8.0f req/s  p99 %7.2f ms  ratio %s   (goal >= 0.70)\n' \
        "$ws_hit" "$ws_hit_p99" "$(ratio "$ws_hit" "$health")"
    printf '  workspace get, fresh      %8.0f req/s  p99 %7.2f ms  ratio %s\n' \
        "$ws_fresh" "$ws_fresh_p99" "$(ratio "$ws_fresh" "$health")"
    echo "  goal: a cache-hit authenticated route serves >= 0.70 of /health's rate"
    unset BENCH_PMA BENCH_TOKEN_FILE
}

echo
echo "authenticated routes"
auth_bench || echo "bench-auth: skipped (see the error above)"
