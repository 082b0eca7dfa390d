# Shell helpers for the scripts that run the release server beside a real component (schemathesis,
# nginx, Chromium, the client examples): source it, then `start_hyperjwt LOG [KEY=VALUE...]`.
# The server binds 127.0.0.1 on a free port, and is stopped by its PID (`stop_hyperjwt`); the
# caller's EXIT trap should call `stop_hyperjwt` too.
#
# HYPERJWT names the binary (default target/release/hyperjwt).

HYPERJWT=${HYPERJWT:-target/release/hyperjwt}
HYPERJWT_PID=""
HYPERJWT_PORT=""

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to 20 s until `url` answers (any HTTP status), or until process `pid` is gone.
wait_for_http() {
  local url=$1 pid=$2
  for _ in $(seq 1 100); do
    if python3 - "$url" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# start_hyperjwt LOG [KEY=VALUE...]: the server with that configuration (HOST and PORT are set
# here), its stderr in LOG. Sets HYPERJWT_PID and HYPERJWT_PORT; fails if it does not answer.
start_hyperjwt() {
  local log=$1
  shift
  HYPERJWT_PORT=$(free_port)
  env HOST=127.0.0.1 PORT="$HYPERJWT_PORT" "$@" "$HYPERJWT" 2>"$log" &
  HYPERJWT_PID=$!
  if ! wait_for_http "http://127.0.0.1:$HYPERJWT_PORT/healthz" "$HYPERJWT_PID"; then
    echo "hyperjwt did not start; its log:" >&2
    cat "$log" >&2
    return 1
  fi
}

# Stops the server started by start_hyperjwt (SIGTERM, then waits); a no-op if there is none.
# Returns the server's exit status.
stop_hyperjwt() {
  local status=0
  if [ -n "$HYPERJWT_PID" ]; then
    kill "$HYPERJWT_PID" 2>/dev/null || true
    wait "$HYPERJWT_PID" 2>/dev/null || status=$?
    HYPERJWT_PID=""
  fi
  return "$status"
}

# A users file with one user, hashed at bcrypt cost 4 (fast logins for tests, never for production).
make_users_file() {
  local file=$1 user=$2 password=$3
  printf '%s\n' "$password" | BCRYPT_COST=4 USERS_FILE="$file" "$HYPERJWT" users add "$user" >/dev/null
}
