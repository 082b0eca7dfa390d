#!/usr/bin/env bash
# Public-key tokens against real verifiers, through a rotation (docs/jwt.md §11). For EdDSA, ES256
# and RS256 (an openssl key, added with `hyperjwt keys add`), with the release server:
#   1. a token of the active key verifies with PyJWT's PyJWKClient, with Flask-JWT-Extended given
#      that key as JWT_PUBLIC_KEY, and with node jose's createRemoteJWKSet, all through the
#      server's /.well-known/jwks.json (tests/interop/check_public_keys.py and .mjs);
#   2. the JWKS is saved; `hyperjwt keys rotate`, SIGHUP; a new token (the former next key's)
#      verifies with the set saved *before* the rotation (publish before you sign), and both
#      tokens verify through the JWKS URL during the overlap;
#   3. the old key is still published until its tokens have expired, then the next rotation
#      drops it and the JWKS no longer has it.
#
#   PYTHON=venv/bin/python bash tests/interop/public_keys.sh
#
# PYTHON has pyjwt[crypto] and flask-jwt-extended; node and npm install jose (JOSE_VERSION, pinned)
# into a scratch directory unless JOSE_DIR already has it. HYPERJWT names the binary, built with
# the public-keys feature (`cargo build --release --features public-keys --target-dir
# target/public-keys`, the default here).
set -euo pipefail
cd "$(dirname "$0")/../.."
HYPERJWT=${HYPERJWT:-target/public-keys/release/hyperjwt}
. tests/support/server.sh

PYTHON=${PYTHON:-python3}
JOSE_VERSION=${JOSE_VERSION:-6.2.19}
WORK=$(mktemp -d)
cleanup() { stop_hyperjwt || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -z "${JOSE_DIR:-}" ]; then
  JOSE_DIR=$WORK/node
  mkdir -p "$JOSE_DIR"
  (cd "$JOSE_DIR" && npm install --silent --no-audit --no-fund "jose@$JOSE_VERSION" >/dev/null)
fi
export JOSE_DIR
echo "--- verifiers: $("$PYTHON" -c 'import jwt, flask_jwt_extended; print("PyJWT", jwt.__version__, "Flask-JWT-Extended", flask_jwt_extended.__version__)'), jose $(node -e "console.log(require('$JOSE_DIR/node_modules/jose/package.json').version)")"

BASE=""
login() {
  "$PYTHON" - "$BASE" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/login", method="POST",
    data=b'{"username":"user1","password":"password1"}', headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["access_token"])
PY
}
kid_of() { "$PYTHON" -c 'import jwt, sys; print(jwt.get_unverified_header(sys.argv[1])["kid"])' "$1"; }
jwks_kids() {
  "$PYTHON" -c 'import json, sys, urllib.request; print(" ".join(k["kid"] for k in json.load(urllib.request.urlopen(sys.argv[1] + "/.well-known/jwks.json"))["keys"]))' "$BASE"
}
verify_all() { # verify_all TOKEN...: both Python verifiers and jose, through the JWKS URL
  "$PYTHON" tests/interop/check_public_keys.py --base-url "$BASE" "$@"
  node tests/interop/check_public_keys.mjs "$BASE" "$@"
}

# Token lifetime (s): long enough for the verifiers to run on a loaded machine, short enough to
# wait out. Logins at bcrypt cost 4, so they are quick whatever the load.
TTL=${TTL:-10}
make_users_file "$WORK/users.json" user1 password1

failed=0
for ALG in EdDSA ES256 RS256; do
  echo "=== $ALG"
  DIR=$WORK/$ALG
  mkdir -p "$DIR"
  ENVS=(JWT_ALGORITHM=$ALG JWT_KEYS_DIR=$DIR/keys JWKS_MAX_AGE=1 USERS_FILE=$WORK/users.json
        JWT_ACCESS_TOKEN_EXPIRES=$TTL JWT_REFRESH_TOKEN_EXPIRES=$TTL)
  if [ "$ALG" = RS256 ]; then
    # ring makes no RSA keys: two from openssl, the first active, the second next.
    for n in 1 2; do
      openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/rsa$n.pem" 2>/dev/null
      env "${ENVS[@]}" "$HYPERJWT" keys add "$DIR/rsa$n.pem"
    done
  else
    env "${ENVS[@]}" "$HYPERJWT" keys rotate
  fi
  start_hyperjwt "$DIR/server.log" "${ENVS[@]}"
  BASE=http://127.0.0.1:$HYPERJWT_PORT

  OLD=$(login)
  OLD_KID=$(kid_of "$OLD")
  verify_all "$OLD" || failed=1
  curl -s "$BASE/.well-known/jwks.json" >"$DIR/before.json"

  sleep 1.1 # JWKS_MAX_AGE: the next key has been published long enough
  env "${ENVS[@]}" "$HYPERJWT" keys rotate
  kill -HUP "$HYPERJWT_PID"
  NEW=$OLD
  for _ in $(seq 1 50); do
    NEW=$(login)
    [ "$(kid_of "$NEW")" != "$OLD_KID" ] && break
    sleep 0.1
  done
  [ "$(kid_of "$NEW")" != "$OLD_KID" ] || { echo "FAIL the server still signs with the old key"; failed=1; }
  "$PYTHON" tests/interop/check_public_keys.py --jwks-file "$DIR/before.json" "$NEW" || failed=1
  verify_all "$OLD" "$NEW" || failed=1
  case " $(jwks_kids) " in
    *" $OLD_KID "*) echo "PASS the retired key is still published while its tokens live" ;;
    *) echo "FAIL the retired key left the JWKS before its tokens expired"; failed=1 ;;
  esac

  sleep $((TTL + 1)) # the old key's tokens: TTL, plus 1
  if [ "$ALG" = RS256 ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/rsa3.pem" 2>/dev/null
    env "${ENVS[@]}" "$HYPERJWT" keys add "$DIR/rsa3.pem"
    sleep 1.1
  fi
  env "${ENVS[@]}" "$HYPERJWT" keys rotate
  kill -HUP "$HYPERJWT_PID"
  sleep 0.5
  case " $(jwks_kids) " in
    *" $OLD_KID "*) echo "FAIL the retired key is still published after its tokens expired"; failed=1 ;;
    *) echo "PASS the retired key left the JWKS once its tokens had expired" ;;
  esac
  stop_hyperjwt || { echo "FAIL the server exited badly"; failed=1; }
done

if [ "$failed" -ne 0 ]; then
  echo "public-key interop FAILED"
  exit 1
fi
echo "public-key interop: every check passed"
