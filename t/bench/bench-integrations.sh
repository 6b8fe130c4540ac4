# bench-integrations.sh: sourced by t/bench/bench.sh (after bench-auth.sh),
# not run on its own. Measures GET /integrations/jira/projects through
# nginx -> wsmsd -> httpc -> the loopback fake (t/fake/upstream.py), three
# upstream pages per call, and prints req/s, p99 and the ratio to /health:
# the per-call overhead of the client module (auth, three HTTP requests
# over a kept-alive connection, JSON parsing and mapping) on top of a bare
# request. The fake is single-process Python sharing the cores with nginx,
# the workers and wrk; its own rate for one page is printed too, as it may
# be the ceiling (the ratio is then a lower bound for wsmsd's share).
#
# Uses from bench.sh: $tmp (keys in $tmp/keys, settings in $tmp/bench.env),
# $top, $workers, $health, run_wrk (sets RPS, P99), ratio. Everything it
# starts lives under $tmp/integ-* and is stopped here, also when bench.sh
# exits early. Names are prefixed bi_ so nothing of bench.sh is clobbered.

bi_dir=$tmp/integ-stack
bi_fake=$tmp/integ-fake

bi_cleanup() {
    sh t/lib/stack.sh stop "$bi_dir" >/dev/null 2>&1 || true
    sh t/lib/fake.sh stop "$bi_fake" >/dev/null 2>&1 || true
}
# bench.sh's own trap removes $tmp; stop our processes first
if command -v cleanup >/dev/null 2>&1; then
    trap 'bi_cleanup; cleanup' EXIT INT TERM
else
    trap 'bi_cleanup' EXIT INT TERM
fi

bi_fail() {
    echo "bench-integrations: $*" >&2
    bi_cleanup
    return 1
}

bi_b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# An Entra-like RS256 token for the run's key. Minted the way bench-auth.sh
# does (its build/release/bench/mint, built from t/bench/mint.c) when that
# helper is there; otherwise signed with the openssl CLI with the same
# claims as the test tokens (iss, aud, tid, oid, sub, email,
# preferred_username, name, iat, nbf, exp).
bi_entra_token() {
    bi_tenant=$(sed -n 's/^AZURE_TENANT_ID=//p' "$tmp/bench.env" | tail -n 1)
    bi_aud=$(sed -n 's/^AZURE_AUDIENCE=//p' "$tmp/bench.env" | tail -n 1)
    bi_kid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["keys"][0]["kid"])' \
        "$tmp/keys/jwks.json")
    bi_oid=$(python3 -c 'import uuid; print(uuid.uuid4())')
    bi_email="bench-integ-${bi_oid%%-*}@example.com"
    if [ -x build/release/bench/mint ] &&
        build/release/bench/mint "$tmp/keys/key.pem" "$bi_kid" "$bi_tenant" "$bi_aud" \
            "$bi_oid" "$bi_email" 1 2>/dev/null; then
        return 0
    fi
    bi_now=$(date +%s)
    bi_hdr=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$bi_kid" | bi_b64url)
    bi_pl=$(printf '{"iss":"https://login.microsoftonline.com/%s/v2.0","aud":"%s","tid":"%s","oid":"%s","sub":"%s","email":"%s","preferred_username":"%s","name":"Bench Integ","iat":%s,"nbf":%s,"exp":%s}' \
        "$bi_tenant" "$bi_aud" "$bi_tenant" "$bi_oid" "$bi_oid" "$bi_email" "$bi_email" \
        "$bi_now" "$bi_now" "$((bi_now + 7200))" | bi_b64url)
    bi_sig=$(printf '%s.%s' "$bi_hdr" "$bi_pl" |
        openssl dgst -sha256 -sign "$tmp/keys/key.pem" -binary | bi_b64url)
    printf '%s.%s.%s\n' "$bi_hdr" "$bi_pl" "$bi_sig"
}

bi_run() {
    bi_furl=$(sh t/lib/fake.sh start "$bi_fake") || { bi_fail "the fake did not start"; return 1; }
    {
        cat "$tmp/bench.env"
        echo "JIRA_BASE_URL=$bi_furl/jira"
        echo "JIRA_EMAIL=bench@example.com"
        echo "JIRA_API_TOKEN=bench-jira-token"
        echo "ADO_ORG_URL=$bi_furl/org"
        echo "ADO_PAT_TOKEN=bench-ado-pat"
        echo "SNOW_BASE_URL=$bi_furl/snow"
        echo "SNOW_API_TOKEN=bench-snow-token"
        echo "GRAPH_BASE_URL=$bi_furl/graph"
        echo "SHAREPOINT_ACCESS_TOKEN=bench-graph-token"
    } > "$tmp/integ.env"
    bi_url=$(STACK_ENV=$tmp/integ.env WSMS_WORKERS=${workers:-2} \
        WSMSD=${top:-.}/build/release/wsmsd sh t/lib/stack.sh start "$bi_dir") ||
        { bi_fail "the stack did not start (logs in $bi_dir)"; return 1; }

    bi_azure=$(bi_entra_token) || { bi_fail "cannot sign a token"; return 1; }
    bi_pma=$(curl -fsS -X POST -H "Authorization: Bearer $bi_azure" "$bi_url/auth/validate" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["pma_token"])') ||
        { bi_fail "POST /auth/validate failed"; return 1; }

    # one call first: it must be the full three-page list, or the figures
    # below would measure an error path
    bi_n=$(curl -fsS -H "Authorization: Bearer $bi_azure" -H "X-PMA-Token: $bi_pma" \
        "$bi_url/integrations/jira/projects" |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin)["projects"]))') ||
        { bi_fail "GET /integrations/jira/projects failed"; return 1; }
    [ "$bi_n" = 6 ] || { bi_fail "GET /integrations/jira/projects gave $bi_n projects, want 6"; return 1; }

    echo
    echo "integrations (fake upstream on loopback, $bi_n projects in 3 pages per call)"
    run_wrk "fake upstream alone (one Jira page)" \
        "$bi_furl/jira/rest/api/3/project/search?startAt=0&maxResults=50"
    bi_fake_rps=$RPS
    run_wrk "wsmsd GET /integrations/jira/projects" "$bi_url/integrations/jira/projects" \
        -H "Authorization: Bearer $bi_azure" -H "X-PMA-Token: $bi_pma"
    bi_rps=$RPS
    printf '  /integrations/jira/projects / /health  %s   (per-call overhead of the client module)\n' \
        "$(ratio "$bi_rps" "${health:-0}")"
    printf '  worker time per call beyond /health     %s ms   (workers x (1/rate - 1/health rate))\n' \
        "$(awk -v r="$bi_rps" -v h="${health:-0}" -v w="${workers:-2}" \
            'BEGIN { if (r > 0 && h > 0) printf "%.2f", w * (1 / r - 1 / h) * 1000; else print "n/a" }')"
    printf '  upstream pages/s during the run         %.0f   (fake alone: %.0f/s)\n' \
        "$(awk -v r="$bi_rps" 'BEGIN { print r * 3 }')" "$bi_fake_rps"
    bi_cleanup
}

bi_run
if command -v cleanup >/dev/null 2>&1; then
    trap cleanup EXIT INT TERM
else
    trap - EXIT INT TERM
fi
