#!/bin/sh
# Makes the test run's Entra signing key and its JWKS: DIR/key.pem (RSA
# private key, read by the tests) and DIR/jwks.json (served to the workers
# through a file:// AZURE_JWKS_URL). Usage: sh t/lib/testkeys.sh DIR KID
set -eu
dir=$1 kid=$2
mkdir -p "$dir"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/key.pem" 2>/dev/null
mod=$(openssl rsa -in "$dir/key.pem" -noout -modulus | sed 's/^Modulus=//')
python3 - "$mod" "$kid" > "$dir/jwks.json" <<'PY'
import base64, json, sys
n = bytes.fromhex(sys.argv[1])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "use": "sig", "kid": sys.argv[2],
                            "n": b64(n), "e": b64((65537).to_bytes(3, "big"))}]}))
PY
