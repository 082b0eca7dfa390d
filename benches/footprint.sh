#!/usr/bin/env bash
# The release server's footprint, one line per figure:
#   (a) the stripped release binary's size;
#   (b) RSS once started and idle;
#   (c) RSS while holding IDLE_CONNECTIONS (5000) idle keep-alive connections, each having made one
#       request (benches/idle_connections.py), and the cost per connection; the same for the
#       plain-hyper baseline (examples/baseline.rs), and the ratio;
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
build --example baseline

# (a)
size="$(stat -c %s "$BIN")"
echo "binary size:      $size bytes ($(mib $((size / 1024))) MiB), target/release/hyperjwt (release profile strips symbols)"

# hold_idle NAME PID ADDR BASE_KIB: holds IDLE_CONNECTIONS idle keep-alive connections on the server
# at ADDR, reads its RSS during the hold, prints the figure and sets HELD_KIB.
hold_idle() {
    local name="$1" pid="$2" addr="$3" base_kib="$4"
    # Sockets the server already has (the listener, the runtime's signal pipe), so that we can count
    # the client connections it really holds.
    local base_sockets held_out held_pid server_sockets idle_line per_connection
    base_sockets="$(find "/proc/$pid/fd" -lname 'socket:*' | wc -l)"
    held_out="$WORK/idle-connections-$name.txt"
    python3 "$ROOT/benches/idle_connections.py" "$addr" --connections "$IDLE_CONNECTIONS" \
        --hold "$HOLD_SECONDS" >"$held_out" &
    held_pid=$!
    PIDS+=("$held_pid")
    until grep -qs '^OPENED' "$held_out"; do
        kill -0 "$held_pid" 2>/dev/null || die "idle_connections.py failed: $(cat "$held_out")"
        sleep 0.1
    done
    # Let the server's last reads and writes settle; well within the hold time.
    sleep 0.5
    HELD_KIB="$(proc_kib "$pid" VmRSS)"
    server_sockets=$(($(find "/proc/$pid/fd" -lname 'socket:*' | wc -l) - base_sockets))
    reap "$held_pid" || true
    idle_line="$(grep '^IDLE ' "$held_out")" || die "idle_connections.py failed: $(cat "$held_out")"
    per_connection="$(awk -v a="$HELD_KIB" -v b="$base_kib" -v n="$(field "$idle_line" opened)" \
        'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "-" }')"
    printf '%-26s %s MiB (%s KiB) holding %s/%s keep-alive connections (the server had %s more sockets than idle; %s still open after %ss; failed %s): %s KiB per connection above idle\n' \
        "RSS with idle connections, $name:" "$(mib "$HELD_KIB")" "$HELD_KIB" "$(field "$idle_line" opened)" \
        "$IDLE_CONNECTIONS" "$server_sockets" "$(field "$idle_line" still_open_after_hold)" "$HOLD_SECONDS" \
        "$(field "$idle_line" failed)"  "$per_connection"
}

# (b) The readiness probe in start_server has made one request; then let start-up settle.
# MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS (they all come from 127.0.0.1) and HEADER_READ_TIMEOUT
# are raised for (c): the idle connections must neither
# wait at the cap nor be closed as idle keep-alives while held.
held_settings=(MAX_CONNECTIONS=$((IDLE_CONNECTIONS + 100)) MAX_CONNECTIONS_PER_ADDRESS=$((IDLE_CONNECTIONS + 100))
    HEADER_READ_TIMEOUT=$((HOLD_SECONDS + 60)))
start_hyperjwt footprint "${held_settings[@]}"
pid="$SERVER_PID"
sleep 1
idle_rss="$(proc_kib "$pid" VmRSS)"
echo "idle RSS:         $(mib "$idle_rss") MiB ($idle_rss KiB) after start-up and one request"

# (c) hyperjwt, then the plain-hyper baseline (examples/baseline.rs, same runtime and connection
# settings) under the same load, so the cost hyperjwt adds per connection is a same-run figure.
hold_idle hyperjwt "$pid" "$SERVER_ADDR" "$idle_rss"
hyperjwt_held="$HELD_KIB"
stop_server "$pid"
start_server baseline "$BASELINE_BIN" "${held_settings[@]}"
pid="$SERVER_PID"
sleep 1
baseline_idle="$(proc_kib "$pid" VmRSS)"
hold_idle baseline "$pid" "$SERVER_ADDR" "$baseline_idle"
echo "idle connections, hyperjwt / baseline RSS: $(awk -v a="$hyperjwt_held" -v b="$HELD_KIB" \
    'BEGIN { printf "%.2f", a / b }')x (baseline idle RSS $(mib "$baseline_idle") MiB)"
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
