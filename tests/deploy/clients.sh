#!/usr/bin/env bash
# Runs the client examples against the release server: examples/clients/python/client.py
# (requests) through tests/deploy/check_python_client.py, and examples/clients/browser/ (fetch) in
# headless Chromium through tests/browser/harness.py, served from a second loopback origin that is
# the one origin in CORS_ORIGINS; then from a third origin, not listed, whose reads must be refused.
# Access tokens live 1 s, so both clients show their refresh on expiry; two failed logins for a
# name throttle it, so the browser page sees a 429 soon.
#
#   PYTHON=.venv/bin/python bash tests/deploy/clients.sh
#
# PYTHON must have requests and websocket-client; Chromium is /usr/bin/chromium (or $CHROMIUM).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/server.sh

PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d)
cleanup() { stop_hyperjwt || true; rm -rf "$WORK"; }
trap cleanup EXIT

USER_NAME=alice
PASSWORD="correct horse"
make_users_file "$WORK/users.json" "$USER_NAME" "$PASSWORD"
SITE_PORT=$(free_port)
ORIGIN=http://127.0.0.1:$SITE_PORT
start_hyperjwt "$WORK/server.log" JWT_SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')" \
  USERS_FILE="$WORK/users.json" DENYLIST_FILE="$WORK/denylist" JWT_ACCESS_TOKEN_EXPIRES=1 \
  CORS_ORIGINS="$ORIGIN" LOGIN_MAX_FAILURES_PER_USER=2
API=http://127.0.0.1:$HYPERJWT_PORT
echo "--- the release server on $API, CORS_ORIGINS=$ORIGIN, JWT_ACCESS_TOKEN_EXPIRES=1"

status=0
echo "--- Python client (requests)"
"$PYTHON" tests/deploy/check_python_client.py --base-url "$API" --username "$USER_NAME" --password "$PASSWORD" || status=1

echo "--- browser client (fetch) in headless Chromium, served from $ORIGIN"
"$PYTHON" tests/browser/harness.py --serve examples/clients/browser --port "$SITE_PORT" --page index.html \
  --query run=flow --query "api=$API" --query "username=$USER_NAME" --query "password=$PASSWORD" \
  --timeout 30 >"$WORK/flow.json" || status=1

echo "--- browser client from an origin not in CORS_ORIGINS: the browser must refuse"
# The refusals are the browser's console errors this run expects.
"$PYTHON" tests/browser/harness.py --serve examples/clients/browser --page index.html \
  --query run=blocked --query "api=$API" --timeout 30 \
  --allow-console-error "blocked by CORS policy" >"$WORK/blocked.json" || status=1

summary=$("$PYTHON" - "$WORK/flow.json" "$WORK/blocked.json" <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
for run in runs:
    result = run.get("result") or {}
    print(f"page {run.get('url', '?')} ({run.get('seconds', '?')} s, origin {result.get('origin', '?')}):")
    for s in result.get("steps", []):
        print(f"  {'PASS' if s['ok'] else 'FAIL'} {s['name']}" + ("" if s["ok"] else f": {s.get('detail')}"))
    if not run["passed"]:
        # The whole report (error, console and network errors) for a page that failed.
        print(json.dumps(run, indent=2))
steps = [s for r in runs for s in (r.get("result") or {}).get("steps", [])]
passed = sum(s["ok"] for s in steps)
print(f"browser client: {passed} passed, {len(steps) - passed} failed, pages {'passed' if all(r['passed'] for r in runs) else 'FAILED'}")
PY
)
echo "$summary"
# The server's access log shows the preflights the browser sent: allowed from the listed origin,
# refused (403) from the other.
for line in "OPTIONS /login 204" "OPTIONS /protected 204" "OPTIONS /login 403"; do
  if grep -q "$line" "$WORK/server.log"; then echo "server log: $line"; else echo "FAIL: no \"$line\" in the server's log"; status=1; fi
done
stop_hyperjwt || { echo "the server exited with status $?"; status=1; }
exit "$status"
