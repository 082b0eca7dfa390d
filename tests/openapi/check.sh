#!/usr/bin/env bash
# Checks docs/openapi.yaml: openapi-spec-validator validates it, then schemathesis runs two release
# servers against it (every check, positive and negative data, authenticated through
# schemathesis_hooks.py), and neither server's log may show a panic:
#   1. headers: the default JWT_TOKEN_LOCATION=headers (bearer tokens only), where every token
#      401 must carry WWW-Authenticate (served_spec.py --headers-only);
#   2. cookies: JWT_TOKEN_LOCATION=headers,cookies with JWT_REFRESH_ROTATION=true, where the hooks
#      authenticate a third of the cases by bearer token, a third by cookie with the right
#      X-CSRF-TOKEN, and a third by cookie with a generated or no X-CSRF-TOKEN (docs/cookies.md).
#
#   PYTHON=.venv/bin/python bash tests/openapi/check.sh
#
# PYTHON is a Python with openapi-spec-validator and schemathesis (tests/openapi/requirements.txt).
# MAX_EXAMPLES bounds the cases per operation (default 100: about 25 s per server on 2 cores).
# SEED (default 1) makes a run repeatable; REPORT_DIR keeps the JUnit and HAR reports (one
# directory per server). SERVERS picks the runs (default "headers cookies").
# NOT_YET_SERVED lists what the description has and this build does not serve yet (paths, and
# header:NAME for a response header): schemathesis skips exactly those (served_spec.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/server.sh

PYTHON=${PYTHON:-python3}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
NOT_YET_SERVED=${NOT_YET_SERVED:-}
SERVERS=${SERVERS:-headers cookies}
SPEC=docs/openapi.yaml
BIN=$(dirname "$PYTHON")

WORK=$(mktemp -d)
cleanup() { stop_hyperjwt || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "--- openapi-spec-validator $SPEC"
"$BIN/openapi-spec-validator" "$SPEC"

if [ -n "$NOT_YET_SERVED" ]; then
  echo "--- schemathesis skips what this build does not serve yet: $NOT_YET_SERVED"
fi
"$PYTHON" tests/openapi/served_spec.py "$SPEC" "$WORK/served-headers.json" \
  --not-yet-served "$NOT_YET_SERVED" --headers-only
"$PYTHON" tests/openapi/served_spec.py "$SPEC" "$WORK/served-cookies.json" \
  --not-yet-served "$NOT_YET_SERVED"

# The servers' users, cost 4 for fast logins: the hooks' user (one login per authenticated case)
# and the description's example, user1/password1, so the examples phase logs in.
USER_NAME=schemathesis
PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')
make_users_file "$WORK/users.json" "$USER_NAME" "$PASSWORD"
make_users_file "$WORK/users.json" user1 password1

# /introspect's client (INTROSPECTION_CLIENTS), which the hooks authenticate as.
INTROSPECTION_SECRET=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')
HOOKS_DIR=$PWD/tests/openapi
SCHEMATHESIS=$(cd "$BIN" && pwd)/schemathesis
status=0

# run_against NAME KEY=VALUE...: a server of its own with that configuration (and a journal),
# schemathesis against it with served-NAME.json, and its log checked for panics. CORS_ORIGINS is
# a list (the description's example origin), so preflights from any other origin get 403 and every
# answer says Vary: Origin; the default `*` is what the other CI checks run. Cookie mode needs a
# list anyway.
run_against() {
  local name=$1
  shift
  local cookies=0
  case " $* " in *" JWT_TOKEN_LOCATION=headers,cookies "*) cookies=1 ;; esac
  mkdir -p "$WORK/$name"
  start_hyperjwt "$WORK/$name/server.log" \
    JWT_SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')" \
    USERS_FILE="$WORK/users.json" DENYLIST_FILE="$WORK/$name/denylist" \
    INTROSPECTION_CLIENTS="schemathesis:$INTROSPECTION_SECRET" \
    CORS_ORIGINS=https://app.example LOG_LEVEL=warn "$@"
  echo "--- schemathesis against the release server ($name: ${*:-JWT_TOKEN_LOCATION=headers, the default}) on 127.0.0.1:$HYPERJWT_PORT" \
    "(max $MAX_EXAMPLES examples per operation)"
  # From $WORK/NAME: schemathesis keeps its replay store in ./.schemathesis.
  (cd "$WORK/$name" && HYPERJWT_HOST=127.0.0.1 HYPERJWT_PORT=$HYPERJWT_PORT HYPERJWT_USER=$USER_NAME \
    HYPERJWT_PASSWORD=$PASSWORD HYPERJWT_COOKIES=$cookies PYTHONPATH=$HOOKS_DIR \
    HYPERJWT_INTROSPECTION_CLIENT="schemathesis:$INTROSPECTION_SECRET" \
    SCHEMATHESIS_HOOKS=schemathesis_hooks \
    "$SCHEMATHESIS" run "$WORK/served-$name.json" \
    --url "http://127.0.0.1:$HYPERJWT_PORT" \
    --checks all \
    --mode all \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$MAX_EXAMPLES" \
    --seed "${SEED:-1}" \
    --workers 2 \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    --report junit,har --report-dir "${REPORT_DIR:-$WORK/report}/$name") || status=1

  if grep -q "panicked" "$WORK/$name/server.log"; then
    echo "FAILED: the $name server's log shows a panic:"
    grep -n "panicked" "$WORK/$name/server.log" | head
    status=1
  fi
  stop_hyperjwt || { echo "FAILED: the $name server exited with status $?"; status=1; }
}

for server in $SERVERS; do
  case $server in
    headers) run_against headers ;;
    cookies) run_against cookies JWT_TOKEN_LOCATION=headers,cookies JWT_REFRESH_ROTATION=true ;;
    *) echo "SERVERS: unknown server $server (headers, cookies)"; exit 2 ;;
  esac
done
exit "$status"
