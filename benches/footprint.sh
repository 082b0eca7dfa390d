#!/usr/bin/env bash
# The release server's footprint, one line per figure:
#   (a) the stripped release binary's size;
#   (b) RSS once started and idle;
#   (c) RSS while holding IDLE_CONNECTIONS (5000) idle keep-alive connections, each having made one
#       request (benches/idle_connections.py), and the cost per connection;
#   (d) time from spawning the process to its first answered request (benches/start_time.py),
#       min and median of START_RUNS (10) runs.
#
#     benches/footprint.sh
#     IDLE_CONNECTIONS=1000 HOLD_SECONDS=5 START_RUNS=5 benches/footprint.sh
#
# Servers run on free 127.0.0.1 ports from a scratch directory (no .env) with a fixed key.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-5000}"
HOLD_SECONDS="${HOLD_SECONDS:-10}"
START_RUNS="${START_RUNS:-10}"
[[ "$HOLD_SECONDS" -ge 2 ]] || die "HOLD_SECONDS must be at least 2: the figures are read during the hold"

require curl python3
# The server and the client each hold one descriptor per connection.
raise_fd_limit $((IDLE_CONNECTIONS + 1024))
echo "building (release)..."
build --bin hyperjwt

# (a)
size="$(stat -c %s "$BIN")"
echo "binary size:      $size bytes ($(mib $((size / 1024))) MiB), target/release/hyperjwt (release profile strips symbols)"

# (b) The readiness probe in start_server has made one request; then let start-up settle.
# MAX_CONNECTIONS and HEADER_READ_TIMEOUT are raised for (c): the idle connections must neither
# wait at the cap nor be closed as idle keep-alives while held.
start_hyperjwt footprint MAX_CONNECTIONS=$((IDLE_CONNECTIONS + 100)) \
    HEADER_READ_TIMEOUT=$((HOLD_SECONDS + 60))
pid="$SERVER_PID"
sleep 1
idle_rss="$(proc_kib "$pid" VmRSS)"
# Sockets the idle server already has (the listener, the runtime's signal pipe), so that (c) can
# count the client connections it really holds.
idle_sockets="$(find "/proc/$pid/fd" -lname 'socket:*' | wc -l)"
echo "idle RSS:         $(mib "$idle_rss") MiB ($idle_rss KiB) after start-up and one request"

# (c)
held_out="$WORK/idle-connections.txt"
python3 "$ROOT/benches/idle_connections.py" "$SERVER_ADDR" --connections "$IDLE_CONNECTIONS" \
    --hold "$HOLD_SECONDS" >"$held_out" &
held_pid=$!
PIDS+=("$held_pid")
until grep -q '^OPENED' "$held_out"; do
    kill -0 "$held_pid" 2>/dev/null || die "idle_connections.py failed: $(cat "$held_out")"
    sleep 0.1
done
# Let the server's last reads and writes settle; well within the hold time.
sleep 0.5
held_rss="$(proc_kib "$pid" VmRSS)"
server_sockets=$(($(find "/proc/$pid/fd" -lname 'socket:*' | wc -l) - idle_sockets))
reap "$held_pid" || true
idle_line="$(grep '^IDLE ' "$held_out")" || die "idle_connections.py failed: $(cat "$held_out")"
per_connection="$(awk -v a="$held_rss" -v b="$idle_rss" -v n="$(field "$idle_line" opened)" \
    'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "-" }')"
echo "RSS with idle connections: $(mib "$held_rss") MiB ($held_rss KiB) holding" \
    "$(field "$idle_line" opened)/$IDLE_CONNECTIONS keep-alive connections (the server had $server_sockets more" \
    "sockets than idle; $(field "$idle_line" still_open_after_hold) still open after ${HOLD_SECONDS}s;" \
    "failed $(field "$idle_line" failed)): $per_connection KiB per connection above idle"
stop_server "$pid"

# (d) From the scratch directory (no .env), with the same fixed key and log level as the servers above.
start_out="$WORK/start-time.txt"
cd "$WORK"
run env JWT_SECRET_KEY="$BENCH_SECRET" LOG_LEVEL="${LOG_LEVEL:-warn}" \
    python3 "$ROOT/benches/start_time.py" "$BIN" --runs "$START_RUNS" >"$start_out" ||
    die "start_time.py failed: $(cat "$start_out")"
start_line="$(grep '^START ' "$start_out")"
echo "start to first answer: min $(field "$start_line" min_ms) ms, median $(field "$start_line" median_ms) ms," \
    "max $(field "$start_line" max_ms) ms ($START_RUNS runs: spawn, then poll GET /healthz)"
