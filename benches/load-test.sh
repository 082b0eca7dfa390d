#!/usr/bin/env bash
# Abuse resistance of the release server, on loopback, in three bounded parts, then a summary:
#   soak   SOAK_CONNECTIONS (1000) connections on /protected for SOAK_SECONDS (60): requests, socket
#          errors, answers >= 400, req/s, p99, and the server's RSS (VmRSS, peak VmHWM) before/after;
#   slow   SLOW_CLIENTS (300) connections trickling header bytes (benches/slow_clients.py) while wrk
#          measures /protected at normal load: p50/p99 without and with them, and proof that
#          HEADER_READ_TIMEOUT (SLOW_TIMEOUT, 3 s) cuts them off;
#   flood  FLOOD_CONNECTIONS (16) connections hammering /login while wrk measures /protected:
#          req/s and p99 unloaded vs during the flood, and the /login status mix. The project's target:
#          during the flood /protected keeps >= 0.7x its unloaded req/s with p99 <= 5 ms.
#
#     benches/load-test.sh
#     SOAK_SECONDS=10 SLOW_SECONDS=6 FLOOD_SECONDS=6 benches/load-test.sh      # a quick run
#     PARTS="flood" benches/load-test.sh                                         # one part only
#
# "Normal load" on /protected is wrk with LOAD_CONNECTIONS (32) connections and LOAD_THREADS (2)
# threads. Each part gets a fresh server so its figures don't depend on the previous part. The
# flood uses the right password by default (FLOOD_PASSWORD=wrong for failed logins) with the
# failed-login limits raised, so it measures bcrypt pressure, not throttling.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PARTS="${PARTS:-soak slow flood}"
SOAK_SECONDS="${SOAK_SECONDS:-60}"
SOAK_CONNECTIONS="${SOAK_CONNECTIONS:-1000}"
SLOW_SECONDS="${SLOW_SECONDS:-15}"
SLOW_CLIENTS="${SLOW_CLIENTS:-300}"
SLOW_TIMEOUT="${SLOW_TIMEOUT:-3}"
FLOOD_SECONDS="${FLOOD_SECONDS:-15}"
FLOOD_CONNECTIONS="${FLOOD_CONNECTIONS:-16}"
FLOOD_PASSWORD="${FLOOD_PASSWORD:-password1}"
LOAD_CONNECTIONS="${LOAD_CONNECTIONS:-32}"
LOAD_THREADS="${LOAD_THREADS:-2}"
PROTECTED="$ROOT/benches/wrk/protected.lua"
LOGIN="$ROOT/benches/wrk/login.lua"

require wrk curl python3
raise_fd_limit $((SOAK_CONNECTIONS + SLOW_CLIENTS + 1024))
echo "building (release)..."
build --bin hyperjwt
echo "$(nproc) cores; fd limit $(ulimit -n); hyperjwt LOG_LEVEL=${LOG_LEVEL:-warn}"

SUMMARY=()
summary() {
    SUMMARY+=("$*")
}

# measure NAME SECONDS: wrk on /protected at normal load; sets LINE to its WRK line.
measure() {
    local out="$WORK/wrk-$1.txt"
    run wrk -t"$LOAD_THREADS" -c"$LOAD_CONNECTIONS" -d"$2s" --latency -s "$PROTECTED" "http://$ADDR" >"$out"
    LINE="$(wrk_line "$out")"
}

# ratio A B: A / B with two decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}

soak() {
    echo
    echo "== soak: $SOAK_CONNECTIONS connections on /protected for ${SOAK_SECONDS}s"
    start_hyperjwt soak MAX_CONNECTIONS=$((SOAK_CONNECTIONS + 100))
    ADDR="$SERVER_ADDR"
    local pid="$SERVER_PID"
    TOKEN="$(login_token "$ADDR")"
    export TOKEN
    local rss_before hwm_before rss_after hwm_after out="$WORK/wrk-soak.txt"
    rss_before="$(proc_kib "$pid" VmRSS)"
    hwm_before="$(proc_kib "$pid" VmHWM)"
    # 5 s: under this much load a slow answer is not an error, a stuck one is.
    run wrk -t2 -c"$SOAK_CONNECTIONS" -d"${SOAK_SECONDS}s" --timeout 5s --latency -s "$PROTECTED" \
        "http://$ADDR" >"$out"
    rss_after="$(proc_kib "$pid" VmRSS)"
    hwm_after="$(proc_kib "$pid" VmHWM)"
    local line alive
    line="$(wrk_line "$out")"
    alive="$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/healthz" || true)"
    if grep -q 'Socket errors' "$out"; then grep 'Socket errors' "$out"; fi
    echo "requests $(field "$line" requests) in $(field "$line" seconds)s: $(field "$line" rps) req/s," \
        "p50 $(field "$line" p50_ms) ms, p99 $(field "$line" p99_ms) ms, max $(field "$line" max_ms) ms"
    echo "socket errors: connect $(field "$line" connect_errors), read $(field "$line" read_errors)," \
        "write $(field "$line" write_errors), timeout (>5 s) $(field "$line" timeouts); answers >= 400:" \
        "$(field "$line" status_errors)"
    echo "server RSS before $(mib "$rss_before") MiB (peak so far $(mib "$hwm_before") MiB)," \
        "after $(mib "$rss_after") MiB, peak during the soak (VmHWM) $(mib "$hwm_after") MiB"
    echo "GET /healthz after the soak: $alive"
    summary "soak    $SOAK_CONNECTIONS conns ${SOAK_SECONDS}s: $(field "$line" requests) requests," \
        "$(field "$line" rps) req/s, p99 $(field "$line" p99_ms) ms; socket errors" \
        "c/r/w/t $(field "$line" connect_errors)/$(field "$line" read_errors)/$(field "$line" write_errors)/$(field "$line" timeouts)," \
        ">=400: $(field "$line" status_errors); RSS $(mib "$rss_before") -> $(mib "$rss_after") MiB," \
        "peak $(mib "$hwm_after") MiB; healthz after: $alive"
    stop_server "$pid"
}

slow() {
    echo
    echo "== slow clients: $SLOW_CLIENTS trickling connections, HEADER_READ_TIMEOUT=$SLOW_TIMEOUT," \
        "/protected at $LOAD_CONNECTIONS connections for ${SLOW_SECONDS}s each"
    start_hyperjwt slow HEADER_READ_TIMEOUT="$SLOW_TIMEOUT"
    ADDR="$SERVER_ADDR"
    local pid="$SERVER_PID"
    TOKEN="$(login_token "$ADDR")"
    export TOKEN
    local without with slow_pid slow_line slow_out="$WORK/slow-clients.txt"
    measure slow-without "$SLOW_SECONDS"
    without="$LINE"
    echo "without slow clients: $(field "$without" rps) req/s, p50 $(field "$without" p50_ms) ms," \
        "p99 $(field "$without" p99_ms) ms"
    # The slow clients start first (their ramp takes one byte interval) and outlast the measurement.
    python3 "$ROOT/benches/slow_clients.py" "$ADDR" --connections "$SLOW_CLIENTS" \
        --seconds $((SLOW_SECONDS + 3)) >"$slow_out" &
    slow_pid=$!
    PIDS+=("$slow_pid")
    sleep 1.5
    measure slow-with "$SLOW_SECONDS"
    with="$LINE"
    reap "$slow_pid" || die "slow_clients.py failed: $(cat "$slow_out")"
    slow_line="$(grep '^SLOW ' "$slow_out")"
    echo "with slow clients:    $(field "$with" rps) req/s, p50 $(field "$with" p50_ms) ms," \
        "p99 $(field "$with" p99_ms) ms; answers >= 400 $(field "$with" status_errors)"
    echo "slow clients: $slow_line"
    # Every connection must be closed by the server within the timeout (plus scheduling slack).
    local verdict
    verdict="$(awk -v cut="$(field "$slow_line" cut_off)" -v max="$(field "$slow_line" lifetime_max_s)" \
        -v oldest="$(field "$slow_line" oldest_open_s)" -v limit="$SLOW_TIMEOUT" 'BEGIN {
            if (cut > 0 && max + 0 <= limit + 1 && (oldest == "-" || oldest + 0 <= limit + 1)) print "yes";
            else print "NO" }')"
    echo "slow clients cut off by HEADER_READ_TIMEOUT=${SLOW_TIMEOUT}s: $verdict" \
        "($(field "$slow_line" cut_off) cut off after $(field "$slow_line" lifetime_min_s)-$(field "$slow_line" lifetime_max_s) s)"
    summary "slow    /protected p50/p99 $(field "$without" p50_ms)/$(field "$without" p99_ms) ms without," \
        "$(field "$with" p50_ms)/$(field "$with" p99_ms) ms with $SLOW_CLIENTS slow clients" \
        "(req/s $(field "$without" rps) -> $(field "$with" rps)); cut off by the ${SLOW_TIMEOUT}s timeout: $verdict" \
        "($(field "$slow_line" cut_off) closed after $(field "$slow_line" lifetime_min_s)-$(field "$slow_line" lifetime_max_s) s)"
    stop_server "$pid"
}

flood() {
    echo
    echo "== login flood: $FLOOD_CONNECTIONS connections on /login (password $FLOOD_PASSWORD)," \
        "/protected at $LOAD_CONNECTIONS connections for ${FLOOD_SECONDS}s each"
    start_hyperjwt flood LOGIN_MAX_FAILURES_PER_USER=1000000000 LOGIN_MAX_FAILURES_PER_ADDRESS=1000000000
    ADDR="$SERVER_ADDR"
    local pid="$SERVER_PID"
    TOKEN="$(login_token "$ADDR")"
    export TOKEN
    local unloaded during flood_pid flood_line flood_out="$WORK/wrk-login.txt"
    measure flood-unloaded "$FLOOD_SECONDS"
    unloaded="$LINE"
    echo "unloaded:         $(field "$unloaded" rps) req/s, p50 $(field "$unloaded" p50_ms) ms," \
        "p99 $(field "$unloaded" p99_ms) ms"
    # The flood starts first so its queue is full before the measurement, and ends after it. A
    # login may wait for many bcrypt checks ahead of it: a long timeout keeps those from counting as
    # errors.
    LOGIN_PASSWORD="$FLOOD_PASSWORD" wrk -t1 -c"$FLOOD_CONNECTIONS" -d"$((FLOOD_SECONDS + 4))s" \
        --timeout 30s --latency -s "$LOGIN" "http://$ADDR" >"$flood_out" &
    flood_pid=$!
    PIDS+=("$flood_pid")
    sleep 2
    measure flood-during "$FLOOD_SECONDS"
    during="$LINE"
    reap "$flood_pid" || die "the login flood's wrk failed: $(cat "$flood_out")"
    flood_line="$(wrk_line "$flood_out")"
    local rate_ratio verdict
    rate_ratio="$(ratio "$(field "$during" rps)" "$(field "$unloaded" rps)")"
    verdict="$(awk -v r="$rate_ratio" -v p99="$(field "$during" p99_ms)" \
        'BEGIN { if (r >= 0.7 && p99 <= 5) print "met"; else print "NOT met" }')"
    echo "during the flood: $(field "$during" rps) req/s, p50 $(field "$during" p50_ms) ms," \
        "p99 $(field "$during" p99_ms) ms; answers >= 400 $(field "$during" status_errors)"
    echo "ratio during/unloaded: req/s ${rate_ratio}x," \
        "p99 $(ratio "$(field "$during" p99_ms)" "$(field "$unloaded" p99_ms)")x"
    echo "/login: $(field "$flood_line" requests) answers in $(field "$flood_line" seconds)s" \
        "($(field "$flood_line" rps)/s, p50 $(field "$flood_line" p50_ms) ms, p99 $(field "$flood_line" p99_ms) ms):" \
        "200 $(field "$flood_line" s200), 401 $(field "$flood_line" s401), 429 $(field "$flood_line" s429)," \
        "503 $(field "$flood_line" s503), other $(field "$flood_line" s_other); socket errors" \
        "c/r/w/t $(field "$flood_line" connect_errors)/$(field "$flood_line" read_errors)/$(field "$flood_line" write_errors)/$(field "$flood_line" timeouts)"
    echo "target (>= 0.7x unloaded req/s and p99 <= 5 ms during the flood): $verdict"
    summary "flood   /protected $(field "$unloaded" rps) -> $(field "$during" rps) req/s (${rate_ratio}x)," \
        "p99 $(field "$unloaded" p99_ms) -> $(field "$during" p99_ms) ms; /login" \
        "200/401/429/503/other $(field "$flood_line" s200)/$(field "$flood_line" s401)/$(field "$flood_line" s429)/$(field "$flood_line" s503)/$(field "$flood_line" s_other);" \
        "target (>= 0.7x, p99 <= 5 ms): $verdict"
    stop_server "$pid"
}

for part in $PARTS; do
    case "$part" in
        soak | slow | flood) "$part" ;;
        *) die "unknown part '$part' in PARTS (soak, slow, flood)" ;;
    esac
done

echo
echo "== summary ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%s\n' "${SUMMARY[@]}"
