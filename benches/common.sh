# Shared helpers for the load and footprint scripts (benches/wrk/run.sh, benches/load-test.sh,
# benches/footprint.sh). Sourced, not run: it starts servers on free 127.0.0.1 ports, remembers their
# PIDs and stops exactly those on exit.

# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# HYPERJWT_BIN=path measures a prebuilt server instead (e.g. an older commit built in a worktree);
# scripts that honour it then skip building the server.
BIN="${HYPERJWT_BIN:-$ROOT/target/release/hyperjwt}"
# shellcheck disable=SC2034 # used by benches/wrk/run.sh
BASELINE_BIN="$ROOT/target/release/examples/baseline"
# The framework peer (benches/peers/axum-jwt): its own workspace, built into its own target dir.
PEER_DIR="$ROOT/benches/peers/axum-jwt"
# shellcheck disable=SC2034 # used by benches/wrk/run.sh
AXUM_BIN="$PEER_DIR/target/release/axum-jwt"
# A fixed key so a token obtained from /login is valid for the whole run.
BENCH_SECRET="load-test-key-0123456789abcdef0123456789abcdef"

# Servers run in a scratch directory so a developer's .env in the checkout cannot change the settings
# under test. Logs go there too.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hyperjwt-bench.XXXXXX")"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "${KEEP_LOGS:-}" ]]; then
        echo "logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "error: $*" >&2
    exit 1
}

# Installs wrk with apt when it is missing and we can (root, or passwordless sudo); otherwise
# fails early with an install hint instead of halfway through a run.
install_wrk() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if command -v apt-get >/dev/null; then
        echo "wrk not found: installing it with apt-get" >&2
        $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq wrk >&2 && return 0
    fi
    die "wrk not found and could not be installed: install it (Debian/Ubuntu: sudo apt-get install -y wrk)"
}

require() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null; then
            case "$tool" in
                wrk) install_wrk ;;
                *) die "$tool not found" ;;
            esac
        fi
    done
}

# Many connections need many file descriptors, in the servers and in the clients alike; children
# inherit the limit. Raise the soft limit as far as the hard limit allows.
raise_fd_limit() {
    local want="$1" hard
    hard="$(ulimit -Hn)"
    if [[ "$hard" != unlimited && "$hard" -lt "$want" ]]; then
        echo "warning: hard fd limit is $hard, below the $want wanted" >&2
        want="$hard"
    fi
    if [[ "$(ulimit -n)" != unlimited && "$(ulimit -n)" -lt "$want" ]]; then
        ulimit -n "$want"
    fi
}

# build ARGS...: one `cargo build --release`. Build the server and an example in separate calls:
# built together, the server binary would get the extra tokio features the dev-dependencies unify
# in for the example (a different, slightly larger binary than `cargo build --release` makes).
build() {
    (cd "$ROOT" && cargo build --release --quiet "$@")
}

# build_peer: the axum peer in release, with its own Cargo.lock (--locked) and target dir.
build_peer() {
    (cd "$PEER_DIR" && cargo build --release --quiet --locked --target-dir "$PEER_DIR/target")
}

# free_port: a port nobody listens on right now. The servers could pick one themselves (PORT=0), but
# hyperjwt only logs its address at info level and the benchmarks run it at warn; the window between
# this probe and the server's bind is tiny on an otherwise idle loopback.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME COMMAND [VAR=VALUE...]: starts COMMAND with the current environment plus the
# given variables, on 127.0.0.1 and a free port, waits until it answers GET /healthz, and sets
# SERVER_PID and SERVER_ADDR (host:port). Output goes to $WORK/NAME.log. When the array SERVER_WRAP
# is set (e.g. `taskset -c 0`), the command runs under it; the wrapper execs the server, so
# SERVER_PID is still the server's own PID.
SERVER_WRAP=()
start_server() {
    local name="$1" command="$2"
    shift 2
    local log="$WORK/$name.log" port
    port="$(free_port)"
    (cd "$WORK" && exec env "$@" HOST=127.0.0.1 PORT="$port" ${SERVER_WRAP[@]+"${SERVER_WRAP[@]}"} "$command") >"$log" 2>&1 &
    SERVER_PID=$!
    SERVER_ADDR="127.0.0.1:$port"
    PIDS+=("$SERVER_PID")
    local _
    for _ in $(seq 500); do
        curl -sf -o /dev/null "http://$SERVER_ADDR/healthz" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; die "$name exited at start-up"; }
        sleep 0.02
    done
    cat "$log" >&2
    die "$name did not answer on $SERVER_ADDR within 10 s"
}

# reap PID: waits for a background process we started and forgets it, so the exit trap never
# signals a PID that may since have been reused. Returns the process's status.
reap() {
    local status=0 pid kept=()
    wait "$1" 2>/dev/null || status=$?
    for pid in "${PIDS[@]}"; do
        [[ "$pid" == "$1" ]] || kept+=("$pid")
    done
    PIDS=("${kept[@]}")
    return "$status"
}

# run COMMAND...: runs COMMAND as a tracked child and waits for it. Bash runs a trap only once the
# foreground command has finished, but a `wait` is cut short: so an interrupted script stops its
# servers and load generators at once instead of after the current wrk run.
run() {
    "$@" &
    PIDS+=("$!")
    reap "$!"
}

# stop_server PID: SIGTERM, then wait for it.
stop_server() {
    kill "$1" 2>/dev/null || true
    reap "$1" || true
}

# start_hyperjwt NAME [VAR=VALUE...]: the release binary with the fixed key; access logging off by
# default (LOG_LEVEL=warn) so the figures measure request handling, not writes to a log file. wrk and
# the other load generators open every connection from 127.0.0.1, so MAX_CONNECTIONS_PER_ADDRESS
# (128 by default) is raised to MAX_CONNECTIONS (BENCH_MAX_CONNECTIONS, 4096): a run with more
# connections is then measured, not silently capped. A part that measures the cap itself passes
# MAX_CONNECTIONS_PER_ADDRESS=... among its VAR=VALUE (the later value wins).
start_hyperjwt() {
    local name="$1" most="${BENCH_MAX_CONNECTIONS:-4096}"
    shift
    start_server "$name" "$BIN" JWT_SECRET_KEY="$BENCH_SECRET" LOG_LEVEL="${LOG_LEVEL:-warn}" \
        MAX_CONNECTIONS="$most" MAX_CONNECTIONS_PER_ADDRESS="$most" "$@"
}

# login_token ADDR: a fresh access token for the demo user.
login_token() {
    curl -sf -X POST "http://$1/login" -H 'Content-Type: application/json' \
        -d '{"username": "user1", "password": "password1"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# proc_kib PID FIELD: a /proc/PID/status figure in KiB (VmRSS now, VmHWM the peak).
proc_kib() {
    awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}

# mib KIB: KiB as MiB with one decimal.
mib() {
    awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# wrk_line FILE: the machine-readable line the wrk scripts' done() hooks print ("WRK key=value ...").
wrk_line() {
    grep '^WRK ' "$1" | tail -n1 || die "no WRK line in $1: $(cat "$1")"
}

# field LINE KEY: one value from a "key=value key=value" line.
field() {
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}
