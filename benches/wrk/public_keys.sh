#!/usr/bin/env bash
# GET /protected with a reused EdDSA token and a reused ES256 token against the default HS256, in one
# wrk run (benches/wrk/run.sh: the three servers in turn, round after round, pinned), with the
# server's CPU per request and its ratio to HS256: the target is ≤ 1.10x (issue 24), which the
# memo of verified tokens (src/jwt/cache.rs) makes possible: after the first request, a reused
# token costs an equality test instead of the curve arithmetic.
#
#     benches/wrk/public_keys.sh
#     DURATION=10 ROUNDS=5 benches/wrk/public_keys.sh
#
# All three are one binary, built with the public-keys feature into target/public-keys (the HS256
# path is the same code as the default build's). Each variant signs its own /login token with a
# key set made here by `hyperjwt keys rotate`.
# JWT_VERIFIED_CACHE_SIZE=0 as well adds the variants without the memo (every request verifies):
#     UNCACHED=1 benches/wrk/public_keys.sh
# Run it on a quiet machine: the other settings are run.sh's (DURATION, ROUNDS, CONNECTIONS, ...).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
KEYS="$(mktemp -d)"
trap 'rm -rf "$KEYS"' EXIT
PK="$ROOT/target/public-keys/release/hyperjwt"
cargo build --release --quiet --bin hyperjwt --features public-keys \
    --target-dir "$ROOT/target/public-keys" --manifest-path "$ROOT/Cargo.toml"
for alg in EdDSA ES256; do
    JWT_ALGORITHM=$alg JWT_KEYS_DIR="$KEYS/$alg" "$PK" keys rotate >/dev/null
done
# Short names for the table: the servers are named after the binary's path and their settings.
ln -s "$PK" "$KEYS/pk"
HS="hyperjwt@$KEYS/pk"
ED="+JWT_ALGORITHM=EdDSA+JWT_KEYS_DIR=$KEYS/EdDSA"
EC="+JWT_ALGORITHM=ES256+JWT_KEYS_DIR=$KEYS/ES256"
PEERS="$HS $HS$ED $HS$EC"
if [[ "${UNCACHED:-0}" == 1 ]]; then
    PEERS="$PEERS $HS$ED+JWT_VERIFIED_CACHE_SIZE=0 $HS$EC+JWT_VERIFIED_CACHE_SIZE=0"
fi
PEERS="$PEERS" RATIO_TO="$HS" exec "$ROOT/benches/wrk/run.sh"
