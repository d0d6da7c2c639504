#!/bin/sh
# A signed call to Fuquan's data-sharing API with nothing but OpenSSL 3 (SM3, HMAC-SM3) and curl — the worked
# example for a partner department's developer (README, "Calling the data-sharing API").
#
#   FUQUAN_URL=http://127.0.0.1:8000 FUQUAN_KEY=fq64-… FUQUAN_SECRET=… \
#     deploy/share/call.sh /api/share/v1/employment/unemployment_registration '{"id_number":"640202198501011234"}'
#
# The third argument is X-Purpose (用途:本部门案卷编号), the fourth X-User-Id (the department's operator).
set -eu
path="$1"
body="$2"
purpose="${3:-dibao_eligibility:MZ2026-0153}"
operator="${4:-mz_operator}"
timestamp=$(date +%s)
nonce=$(openssl rand -hex 16)
body_sm3=$(printf '%s' "$body" | openssl dgst -sm3 -r | cut -d' ' -f1)
signature=$(printf 'POST\n%s\n%s\n%s\n%s\n%s' "$path" "$FUQUAN_KEY" "$timestamp" "$nonce" "$body_sm3" \
    | openssl dgst -sm3 -hmac "$FUQUAN_SECRET" -r | cut -d' ' -f1)
curl -sS "${FUQUAN_URL:-http://127.0.0.1:8000}$path" \
    -H 'Content-Type: application/json' \
    -H "X-App-Key: $FUQUAN_KEY" -H "X-Timestamp: $timestamp" -H "X-Nonce: $nonce" -H "X-Request-Id: $nonce" \
    -H "X-Purpose: $purpose" -H "X-User-Id: $operator" -H "X-Signature: $signature" \
    --data-binary "$body"
