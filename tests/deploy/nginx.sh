#!/usr/bin/env bash
# Runs deploy/nginx/hyperjwt-tls.conf for real on loopback: a self-signed certificate made here,
# nginx (its own prefix, pid file and logs, `daemon off;`, stopped by its PID) in front of the
# release server with TRUSTED_PROXIES=127.0.0.1, driven with `curl --cacert`. It checks TLS, the
# redirect, login → protected → refresh → logout, nginx's JSON 413 at the body limit, and that
# hyperjwt sees each client's own address through X-Forwarded-For: the per-address login throttle
# tells clients on 127.0.0.2 and 127.0.0.3 apart although every request reaches hyperjwt from
# nginx, a forged X-Forwarded-For entry is ignored, and the security log names the client. Last,
# with hyperjwt stopped, nginx answers the JSON 503 with Retry-After that docs/deploy.md promises.
#
#   bash tests/deploy/nginx.sh        (needs nginx, openssl, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/server.sh

RECIPE=deploy/nginx/hyperjwt-tls.conf
for tool in nginx openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install -y nginx openssl curl)"; exit 1; }
done

WORK=$(mktemp -d)
NGINX_PID=""
cleanup() {
  if [ -n "$NGINX_PID" ]; then kill -QUIT "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  stop_hyperjwt || true
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1)); echo "PASS $1"
  else
    failed=$((failed + 1)); echo "FAIL $1: expected [$2], got [$3]"
  fi
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

echo "--- a self-signed certificate for localhost and 127.0.0.1"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

echo "--- hyperjwt behind it (TRUSTED_PROXIES=127.0.0.1, rotation, 3 failed logins per address)"
make_users_file "$WORK/users.json" alice "correct horse"
start_hyperjwt "$WORK/hyperjwt.log" JWT_SECRET_KEY="$(openssl rand -hex 32)" USERS_FILE="$WORK/users.json" \
  DENYLIST_FILE="$WORK/denylist" TRUSTED_PROXIES=127.0.0.1 JWT_REFRESH_ROTATION=true \
  LOGIN_MAX_FAILURES_PER_ADDRESS=3 LOGIN_MAX_FAILURES_PER_USER=100 LOG_LEVEL=info

echo "--- nginx with $RECIPE (loopback ports, this certificate)"
TLS_PORT=$(free_port)
HTTP_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
# The recipe as written, with only what differs on a test machine replaced: each replacement must
# hit exactly the lines it names, so a change to the recipe cannot slip past this test unnoticed.
substitute() { # substitute FROM TO COUNT
  local n
  n=$(grep -cF -- "$1" "$WORK/site.conf" || true)
  [ "$n" = "$3" ] || { echo "the recipe changed: expected $3 line(s) with [$1], found $n"; exit 1; }
  FROM=$1 TO=$2 python3 -c 'import os,sys; p=sys.argv[1]; s=open(p).read(); open(p,"w").write(s.replace(os.environ["FROM"], os.environ["TO"]))' "$WORK/site.conf"
}
cp "$RECIPE" "$WORK/site.conf"
substitute "server 127.0.0.1:5000;" "server 127.0.0.1:$HYPERJWT_PORT;" 1
substitute "listen 80;" "listen 127.0.0.1:$HTTP_PORT;" 1
substitute "listen 443 ssl http2;" "listen 127.0.0.1:$TLS_PORT ssl http2;" 1
# IPv6 listeners are left out: tests bind 127.0.0.1 only.
substitute "listen [::]:80;" "" 1
substitute "listen [::]:443 ssl http2;" "" 1
substitute "server_name auth.example.com;" "server_name localhost;" 2
substitute "/etc/letsencrypt/live/auth.example.com/fullchain.pem" "$WORK/cert.pem" 1
substitute "/etc/letsencrypt/live/auth.example.com/privkey.pem" "$WORK/key.pem" 1
cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
    default_type application/octet-stream;
    access_log $WORK/nginx/logs/access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/site.conf;
}
CONF
# Worker processes run as nobody when nginx starts as root: they must reach the temp paths.
chmod 755 "$WORK" "$WORK/nginx"
chmod 777 "$WORK/nginx/tmp"
nginx -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" &
NGINX_PID=$!
BASE=https://localhost:$TLS_PORT
for _ in $(seq 1 50); do
  curl -s -o /dev/null --cacert "$WORK/cert.pem" "$BASE/healthz" && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/nginx/logs/error.log"; echo "nginx exited"; exit 1; }
  sleep 0.1
done
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$TLS_PORT (TLS) and :$HTTP_PORT, PID $NGINX_PID; hyperjwt on :$HYPERJWT_PORT"

# curl through nginx from a chosen loopback address: every request resolves localhost to 127.0.0.1.
req() { # req FROM_ADDR CURL_ARGS... → prints "STATUS BODY"
  local from=$1; shift
  curl -s --cacert "$WORK/cert.pem" --interface "$from" -w '\n%{http_code}' "$@" | python3 -c '
import sys; *body, status = sys.stdin.read().split("\n"); print(status, "\n".join(body))'
}
status_of() { cut -d" " -f1 <<<"$1"; }
body_of() { cut -d" " -f2- <<<"$1"; }
login_body='{"username":"alice","password":"correct horse"}'

echo "--- TLS"
check "a client without the CA refuses the certificate (curl exit 60)" 60 \
  "$(curl -s -o /dev/null "$BASE/healthz"; echo $?)"
check "TLS 1.2+ and the certificate verify with --cacert" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" "$BASE/healthz")"
headers=$(curl -s -D - -o /dev/null --cacert "$WORK/cert.pem" "$BASE/")
check "HSTS on every answer" 1 "$(grep -ci '^strict-transport-security: max-age=63072000' <<<"$headers")"
check "plain HTTP redirects to HTTPS" "301 https://localhost/login" \
  "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: localhost' "http://127.0.0.1:$HTTP_PORT/login")"

echo "--- login → protected → refresh → logout, through nginx"
r=$(req 127.0.0.2 -X POST -H 'Content-Type: application/json' -d "$login_body" "$BASE/login")
check "POST /login" 200 "$(status_of "$r")"
access=$(body_of "$r" | json '["access_token"]')
refresh=$(body_of "$r" | json '["refresh_token"]')
r=$(req 127.0.0.2 -H "Authorization: Bearer $access" "$BASE/protected")
check "GET /protected" '200 {"logged_in_as":"alice"}' "$r"
r=$(req 127.0.0.2 -X POST -H "Authorization: Bearer $refresh" "$BASE/refresh")
check "POST /refresh (rotation: a new pair)" 200 "$(status_of "$r")"
access2=$(body_of "$r" | json '["access_token"]')
refresh2=$(body_of "$r" | json '["refresh_token"]')
r=$(req 127.0.0.2 -H "Authorization: Bearer $access2" "$BASE/protected")
check "GET /protected with the refreshed token" '200 {"logged_in_as":"alice"}' "$r"
r=$(req 127.0.0.2 -X POST -H "Authorization: Bearer $access2" -H 'Content-Type: application/json' \
  -d "{\"refresh_token\":\"$refresh2\"}" "$BASE/logout")
check "POST /logout" '200 {"msg":"Successfully logged out"}' "$r"
r=$(req 127.0.0.2 -D "$WORK/h" -H "Authorization: Bearer $access2" "$BASE/protected")
check "the logged-out token is refused" '401 {"msg":"Token has been revoked"}' "$r"
check "... with WWW-Authenticate" 1 "$(grep -ci '^www-authenticate: Bearer error="invalid_token"' "$WORK/h")"

echo "--- limits"
big=$(python3 -c 'import json; print(json.dumps({"username": "alice", "password": "x" * 20000}))')
r=$(req 127.0.0.2 -X POST -H 'Content-Type: application/json' --data-binary "$big" "$BASE/login")
check "a body over client_max_body_size: nginx's 413, in hyperjwt's JSON shape" \
  '413 {"msg":"Request body too large"}' "$r"
just_under=$(python3 -c 'import json; print(json.dumps({"username": "nobody", "password": "x" * 16300}))')
r=$(req 127.0.0.9 -X POST -H 'Content-Type: application/json' --data-binary "$just_under" "$BASE/login")
check "a body just under the limit reaches hyperjwt (its 401)" '401 {"msg":"Invalid username or password"}' "$r"

echo "--- hyperjwt sees each client's address through X-Forwarded-For"
for i in 1 2 3; do
  r=$(req 127.0.0.3 -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"mallory$i\",\"password\":\"guess\"}" "$BASE/login")
  check "failed login $i from 127.0.0.3" 401 "$(status_of "$r")"
done
r=$(req 127.0.0.3 -D "$WORK/h" -X POST -H 'Content-Type: application/json' -d "$login_body" "$BASE/login")
check "127.0.0.3 is throttled after 3 failures, right password or not" 429 "$(status_of "$r")"
check "... with Retry-After" 1 "$(grep -ci '^retry-after: [0-9]' "$WORK/h")"
r=$(req 127.0.0.4 -X POST -H 'Content-Type: application/json' -d "$login_body" "$BASE/login")
check "127.0.0.4 is not: hyperjwt keys the throttle on the client, not on nginx's 127.0.0.1" 200 "$(status_of "$r")"
r=$(req 127.0.0.3 -X POST -H 'X-Forwarded-For: 127.0.0.4' -H 'Content-Type: application/json' \
  -d "$login_body" "$BASE/login")
check "a forged X-Forwarded-For entry does not lift 127.0.0.3's throttle" 429 "$(status_of "$r")"
r=$(req 127.0.0.5 -X POST -H 'Content-Type: application/json' -d "$login_body" "$BASE/login")
refresh5=$(body_of "$r" | json '["refresh_token"]')
req 127.0.0.5 -X POST -H "Authorization: Bearer $refresh5" "$BASE/refresh" >/dev/null
r=$(req 127.0.0.6 -X POST -H "Authorization: Bearer $refresh5" "$BASE/refresh")
check "a used refresh token presented again (from 127.0.0.6) is refused" \
  '401 {"msg":"Token has been revoked"}' "$r"
sleep 0.2
security=$(grep "security: a used refresh token" "$WORK/hyperjwt.log" || true)
echo "hyperjwt's log: ${security#*security: }"
check "the security log names the client 127.0.0.6, as nginx forwarded it" 1 \
  "$(grep -c 'client 127.0.0.6;' <<<"$security")"
check "no token in hyperjwt's log" 0 "$(grep -c "$refresh5" "$WORK/hyperjwt.log" || true)"

echo "--- hyperjwt down (PID $HYPERJWT_PID stopped): nginx answers 503 in hyperjwt's JSON shape"
stop_hyperjwt || { echo "hyperjwt exited with status $?"; failed=$((failed + 1)); }
r=$(req 127.0.0.2 -D "$WORK/h" -H "Authorization: Bearer $access" "$BASE/protected")
check "GET /protected with hyperjwt down: 503, not nginx's 502" \
  '503 {"msg":"Service unavailable, try again"}' "$r"
check "... as JSON" 1 "$(grep -ci '^content-type: application/json' "$WORK/h")"
check "... with Retry-After: 1" 1 "$(grep -ci '^retry-after: 1' "$WORK/h")"
r=$(req 127.0.0.2 -X POST -H 'Content-Type: application/json' -d "$login_body" "$BASE/login")
check "POST /login with hyperjwt down: the same 503" '503 {"msg":"Service unavailable, try again"}' "$r"

echo "--- stop nginx (PID $NGINX_PID)"
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" || { echo "nginx exited with status $?"; failed=$((failed + 1)); }
NGINX_PID=""
echo "nginx: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
