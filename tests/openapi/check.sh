#!/usr/bin/env bash
# Checks docs/openapi.yaml: openapi-spec-validator validates it, then schemathesis runs the release
# server against it (every check, positive and negative data, authenticated through
# schemathesis_hooks.py), and the server's log must show no panic.
#
#   PYTHON=.venv/bin/python bash tests/openapi/check.sh
#
# PYTHON is a Python with openapi-spec-validator and schemathesis (tests/openapi/requirements.txt).
# MAX_EXAMPLES bounds the cases per operation (default 100: about 20 s on 2 cores). SEED (default 1)
# makes a run repeatable; REPORT_DIR keeps the JUnit and HAR reports.
# NOT_YET_SERVED lists what the description has and this build does not serve yet (paths, and
# header:NAME for a response header): schemathesis skips exactly those (served_spec.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/server.sh

PYTHON=${PYTHON:-python3}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
NOT_YET_SERVED=${NOT_YET_SERVED:-}
SPEC=docs/openapi.yaml
BIN=$(dirname "$PYTHON")

WORK=$(mktemp -d)
cleanup() { stop_hyperjwt || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "--- openapi-spec-validator $SPEC"
"$BIN/openapi-spec-validator" "$SPEC"

"$PYTHON" tests/openapi/served_spec.py "$SPEC" "$WORK/served.json" --not-yet-served "$NOT_YET_SERVED"
if [ -n "$NOT_YET_SERVED" ]; then
  echo "--- schemathesis skips what this build does not serve yet: $NOT_YET_SERVED"
fi

# Its own server, with a journal and cost-4 users for fast logins: the hooks' user (one login per
# authenticated case) and the description's example, user1/password1, so the examples phase logs in.
# CORS_ORIGINS is a list (the description's example origin), so preflights from any other origin
# get 403 and every answer says Vary: Origin; the default `*` is what the other CI checks run.
USER_NAME=schemathesis
PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')
make_users_file "$WORK/users.json" "$USER_NAME" "$PASSWORD"
make_users_file "$WORK/users.json" user1 password1
start_hyperjwt "$WORK/server.log" \
  JWT_SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')" \
  USERS_FILE="$WORK/users.json" DENYLIST_FILE="$WORK/denylist" CORS_ORIGINS=https://app.example \
  LOG_LEVEL=warn
echo "--- schemathesis against the release server on 127.0.0.1:$HYPERJWT_PORT (max $MAX_EXAMPLES examples per operation)"

status=0
# From $WORK: schemathesis keeps its replay store in ./.schemathesis.
HOOKS_DIR=$PWD/tests/openapi
SCHEMATHESIS=$(cd "$BIN" && pwd)/schemathesis
(cd "$WORK" && HYPERJWT_HOST=127.0.0.1 HYPERJWT_PORT=$HYPERJWT_PORT HYPERJWT_USER=$USER_NAME \
  HYPERJWT_PASSWORD=$PASSWORD PYTHONPATH=$HOOKS_DIR SCHEMATHESIS_HOOKS=schemathesis_hooks \
  "$SCHEMATHESIS" run "$WORK/served.json" \
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
  --report junit,har --report-dir "${REPORT_DIR:-$WORK/report}") || status=$?

if grep -q "panicked" "$WORK/server.log"; then
  echo "FAILED: the server log shows a panic:"
  grep -n "panicked" "$WORK/server.log" | head
  status=1
fi
stop_hyperjwt || { echo "FAILED: the server exited with status $?"; status=1; }
exit "$status"
