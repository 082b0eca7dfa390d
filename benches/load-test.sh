#!/usr/bin/env bash
# Abuse resistance of the release server, on loopback, in bounded parts, then a summary:
#   soak   SOAK_CONNECTIONS (1000) connections on /protected for SOAK_SECONDS (60): requests, socket
#          errors, answers >= 400, req/s, p99, and the server's RSS (VmRSS, peak VmHWM) before/after;
#   slow   SLOW_CLIENTS (300) connections trickling header bytes (benches/slow_clients.py) while wrk
#          measures /protected at normal load: p50/p99 without and with them, and proof that
#          HEADER_READ_TIMEOUT (SLOW_TIMEOUT, 3 s) cuts every one off in time (lifetime from its
#          connect() <= SLOW_TIMEOUT + SLOW_MARGIN, 0.5 s). SLOW_SOURCES ("one many") picks where
#          they come from, one fresh server each: `one` = all from 127.0.0.2, `many` = one
#          127.1.x.y address per connection (wrk is on 127.0.0.1). MAX_CONNECTIONS stays at its
#          default (1024), so SLOW_CLIENTS=5000 goes past it;
#   flood  FLOOD_CONNECTIONS (16) connections hammering /login while wrk measures /protected:
#          req/s and p99 unloaded vs during the flood, and the /login status mix. With FLOOD_PIN=1
#          (the default on a host with two or more CPUs and taskset) the server, with its
#          password-check threads, runs on CPU 0 and both wrk on CPU 1, so what is measured is how the
#          server shares its own core between token checks and bcrypt (nice 19), not how the kernel
#          shares the machine with wrk. The target (issue 11): during the flood /protected keeps
#          >= 0.9x its unloaded req/s with p99 <= 5 ms, pinned;
#   logins (only when asked for in PARTS) /login alone, throttling off, unpinned, for LOGIN_SECONDS
#          (8) with one connection, then LOGIN_CONNECTIONS (8): one connection waits for one bcrypt
#          check at a time, so its rate is what one core does, and the machine's capacity is the
#          cores times that. The target (issue 11): logins/s >= 0.9x that capacity.
#   overload (only when asked for in PARTS) login floods from one address (issue 23). For each core
#          count in OVERLOAD_CORES (default: 2 and every core of this machine), a server pinned to
#          that many CPUs (taskset; the load generators on the other CPUs, or on the same ones when
#          none are left): /login with 1, then each of OVERLOAD_FLOODS (8 32 128) connections from
#          127.0.0.1 for OVERLOAD_SECONDS (6) each, logins/s (every client's, as the server counts
#          them) ÷ capacity (capacity = cores ÷ one check's time, that time from the 1-connection
#          run) and ÷ the first flood's rate, 503/s
#          and 429/s, the server's CPU and its checks' share, one check's mean time; during the
#          32-connection flood a second client logs in one login at a time from 127.0.0.2
#          (benches/login_client.py): its p50/p99. Then, pinned as the flood part (the server on the
#          first half of the CPUs, the load on the rest), /protected alone and during each flood of
#          OVERLOAD_PROTECTED_FLOODS (32 128): req/s and p99 ÷ alone. OVERLOAD_BEFORE=path/to/an/older
#          /hyperjwt measures that binary too, alternated with this one in each of OVERLOAD_ROUNDS
#          (1) rounds (before, after, then after, before, ...); medians per binary at the end.
#          OVERLOAD_BINS="label=path[+VAR=value...] ..." measures any servers and settings instead
#          (e.g. "wait=target/release/hyperjwt nowait=target/release/hyperjwt+PASSWORD_CHECK_WAIT=0").
#          Targets (issue 23): logins >= 0.8x capacity for every flood of at least as many
#          connections as cores; the second client's p99 <= 2 checks plus its share; /protected
#          >= 0.9x with p99 <= 5 ms.
#
#     benches/load-test.sh
#     SOAK_SECONDS=10 SLOW_SECONDS=6 FLOOD_SECONDS=6 benches/load-test.sh      # a quick run
#     PARTS="flood" benches/load-test.sh                                         # one part only
#     PARTS="logins flood" FLOOD_SECONDS=8 benches/load-test.sh                  # issue 11's login targets
#     PARTS=slow SLOW_CLIENTS=5000 SLOW_SOURCES=many SLOW_SECONDS=10 benches/load-test.sh
#     HYPERJWT_BIN=/path/to/older/hyperjwt PARTS=slow benches/load-test.sh     # a prebuilt server
#     PARTS=overload benches/load-test.sh                                        # issue 23's figures
#     PARTS=overload OVERLOAD_BEFORE=/tmp/old/hyperjwt OVERLOAD_ROUNDS=2 benches/load-test.sh
#
# wrk opens all its connections from 127.0.0.1, and MAX_CONNECTIONS_PER_ADDRESS (128 by default)
# caps one address: every part but `slow` (whose subject is that cap) starts its server with the cap
# raised (start_hyperjwt in common.sh), so a part with more connections is never silently capped.
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
SLOW_SOURCES="${SLOW_SOURCES:-one many}"
SLOW_MARGIN="${SLOW_MARGIN:-0.5}"
FLOOD_SECONDS="${FLOOD_SECONDS:-15}"
FLOOD_CONNECTIONS="${FLOOD_CONNECTIONS:-16}"
FLOOD_PASSWORD="${FLOOD_PASSWORD:-password1}"
LOGIN_SECONDS="${LOGIN_SECONDS:-8}"
LOGIN_CONNECTIONS="${LOGIN_CONNECTIONS:-8}"
LOAD_CONNECTIONS="${LOAD_CONNECTIONS:-32}"
LOAD_THREADS="${LOAD_THREADS:-2}"
OVERLOAD_SECONDS="${OVERLOAD_SECONDS:-6}"
OVERLOAD_FLOODS="${OVERLOAD_FLOODS:-8 32 128}"
OVERLOAD_PROTECTED_FLOODS="${OVERLOAD_PROTECTED_FLOODS:-32 128}"
OVERLOAD_ROUNDS="${OVERLOAD_ROUNDS:-1}"
OVERLOAD_BEFORE="${OVERLOAD_BEFORE:-}"
PROTECTED="$ROOT/benches/wrk/protected.lua"
LOGIN="$ROOT/benches/wrk/login.lua"

require wrk curl python3
raise_fd_limit $((SOAK_CONNECTIONS + SLOW_CLIENTS + 1024))
if [[ -n "${HYPERJWT_BIN:-}" ]]; then
    [[ -x "$BIN" ]] || die "HYPERJWT_BIN=$BIN is not an executable"
    echo "prebuilt server: $BIN (not building)"
else
    echo "building (release)..."
    build --bin hyperjwt
fi
echo "$(nproc) cores; fd limit $(ulimit -n); hyperjwt LOG_LEVEL=${LOG_LEVEL:-warn}; $BIN"
TICKS_PER_SECOND="$(getconf CLK_TCK)"

SUMMARY=()
summary() {
    SUMMARY+=("$*")
}

# measure NAME SECONDS: wrk on /protected at normal load; sets LINE to its WRK line.
# LOAD_WRAP: a prefix for the load generators (taskset when the flood is pinned).
LOAD_WRAP=()
measure() {
    local out="$WORK/wrk-$1.txt"
    run ${LOAD_WRAP[@]+"${LOAD_WRAP[@]}"} wrk -t"$LOAD_THREADS" -c"$LOAD_CONNECTIONS" -d"$2s" --latency -s "$PROTECTED" "http://$ADDR" >"$out"
    LINE="$(wrk_line "$out")"
}

# cpu_ticks PID: the process's CPU time so far (utime + stime), in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# cores_used TICKS SECONDS: CPU ticks over a wall time, as cores busy (two decimals).
cores_used() {
    awk -v t="$1" -v s="$2" -v hz="$TICKS_PER_SECOND" 'BEGIN { printf "%.2f", t / hz / s }'
}

# load_average: the 1-minute load average now.
load_average() {
    cut -d' ' -f1 /proc/loadavg
}

# probe_new_clients SECONDS OUT: while wrk measures (its latencies leave out connecting), a fresh
# connection from 127.0.0.1 every 0.2 s for SECONDS: GET /healthz with curl (5 s at most), one line
# per probe in OUT: "time_connect time_total http_code".
probe_new_clients() {
    local end=$((SECONDS + $1))
    while ((SECONDS < end)); do
        curl -s -o /dev/null --max-time 5 -w '%{time_connect} %{time_total} %{http_code}\n' \
            "http://$ADDR/healthz" >>"$2" || true
        sleep 0.2
    done
}

# probe_summary OUT: "N probes, F failed, p50 X ms, max Y ms" (time to the answer, connect included).
probe_summary() {
    local n failed
    n="$(wc -l <"$1")"
    failed="$(awk '$3 != 200' "$1" | wc -l)"
    awk '$3 == 200 { print $2 * 1000 }' "$1" | sort -n | awk -v n="$n" -v f="$failed" '
        { t[NR] = $1 }
        END { printf "%d probes, %d failed", n, f
            if (NR > 0) printf ", p50 %.1f ms, max %.1f ms", t[int((NR + 1) / 2)], t[NR] }'
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
    local sources
    for sources in $SLOW_SOURCES; do
        case "$sources" in
            one | many) slow_from "$sources" ;;
            *) die "unknown SLOW_SOURCES entry '$sources' (one, many)" ;;
        esac
    done
}

# slow_from one|many: the slow-clients measurement with the slow clients' sources as given.
slow_from() {
    local sources="$1"
    # Connections accepted while the table is >= 3/4 full get a quarter of the header timeout
    # (at least 1 s): both are "cut by the timeout" (older servers only have the first).
    local pressure_timeout
    pressure_timeout="$(awk -v t="$SLOW_TIMEOUT" 'BEGIN { q = t / 4; if (q < 1) q = 1; print q }')"
    echo
    echo "== slow clients: $SLOW_CLIENTS trickling connections from $sources source address(es)," \
        "HEADER_READ_TIMEOUT=$SLOW_TIMEOUT (${pressure_timeout}s under pressure), MAX_CONNECTIONS default," \
        "/protected at $LOAD_CONNECTIONS connections for ${SLOW_SECONDS}s each; load average $(load_average)"
    # The caps under test at their defaults: MAX_CONNECTIONS (1024) and, for the slow clients all from
    # 127.0.0.2, MAX_CONNECTIONS_PER_ADDRESS (128); wrk's 32 connections from 127.0.0.1 fit in both.
    start_hyperjwt "slow-$sources" HEADER_READ_TIMEOUT="$SLOW_TIMEOUT" MAX_CONNECTIONS=1024 \
        MAX_CONNECTIONS_PER_ADDRESS=128
    ADDR="$SERVER_ADDR"
    local pid="$SERVER_PID"
    TOKEN="$(login_token "$ADDR")"
    export TOKEN
    local without with slow_pid slow_line slow_out="$WORK/slow-clients-$sources.txt" ticks
    measure "slow-$sources-without" "$SLOW_SECONDS"
    without="$LINE"
    echo "without slow clients: $(field "$without" rps) req/s, p50 $(field "$without" p50_ms) ms," \
        "p99 $(field "$without" p99_ms) ms"
    # The slow clients start first (their ramp takes one byte interval) and outlast the measurement.
    python3 "$ROOT/benches/slow_clients.py" "$ADDR" --connections "$SLOW_CLIENTS" --sources "$sources" \
        --timeout "$SLOW_TIMEOUT,$pressure_timeout" --margin "$SLOW_MARGIN" \
        --seconds $((SLOW_SECONDS + 3)) >"$slow_out" &
    slow_pid=$!
    PIDS+=("$slow_pid")
    sleep 1.5
    ticks="$(cpu_ticks "$pid")"
    local probe_pid probe_out="$WORK/probe-$sources.txt"
    : >"$probe_out"
    probe_new_clients "$SLOW_SECONDS" "$probe_out" &
    probe_pid=$!
    PIDS+=("$probe_pid")
    measure "slow-$sources-with" "$SLOW_SECONDS"
    with="$LINE"
    reap "$probe_pid" || true
    local server_cores
    server_cores="$(cores_used $(($(cpu_ticks "$pid") - ticks)) "$(field "$with" seconds)")"
    reap "$slow_pid" || die "slow_clients.py failed: $(cat "$slow_out")"
    slow_line="$(grep '^SLOW ' "$slow_out")"
    echo "with slow clients:    $(field "$with" rps) req/s, p50 $(field "$with" p50_ms) ms," \
        "p99 $(field "$with" p99_ms) ms, max $(field "$with" max_ms) ms; answers >= 400 $(field "$with" status_errors);" \
        "socket errors c/r/w/t $(field "$with" connect_errors)/$(field "$with" read_errors)/$(field "$with" write_errors)/$(field "$with" timeouts)"
    echo "new clients meanwhile (a fresh connection every 0.2 s, GET /healthz): $(probe_summary "$probe_out")"
    echo "CPU while measured: server $server_cores cores, slow_clients.py $(field "$slow_line" cpu_per_s) cores"
    echo "slow clients: $slow_line"
    # Every connection must be closed by the server within the timeout (plus a small margin),
    # counted from its connect(): time in the accept queue counts. Open ones at the end count too.
    local verdict
    verdict="$(awk -v closed="$(field "$slow_line" closed)" -v over="$(field "$slow_line" over_timeout)" \
        'BEGIN { if (closed > 0 && over == 0) print "yes"; else print "NO" }')"
    echo "every slow client cut within HEADER_READ_TIMEOUT=${SLOW_TIMEOUT}s + ${SLOW_MARGIN}s of its connect: $verdict" \
        "($(field "$slow_line" closed) closed: $(field "$slow_line" closed_at_once) at once (< 0.1 s)," \
        "$(field "$slow_line" cut_by_timeout) by a timeout, lifetime max $(field "$slow_line" lifetime_max_s) s;" \
        "$(field "$slow_line" over_timeout) over; $(field "$slow_line" open_at_end) open at the end, oldest" \
        "$(field "$slow_line" oldest_open_s) s; $(field "$slow_line" connecting_at_end) still connecting," \
        "oldest $(field "$slow_line" oldest_connecting_s) s)"
    summary "slow    $SLOW_CLIENTS from $sources: /protected p50/p99 $(field "$without" p50_ms)/$(field "$without" p99_ms) ms without," \
        "$(field "$with" p50_ms)/$(field "$with" p99_ms) ms with (req/s $(field "$without" rps) -> $(field "$with" rps));" \
        "cut within ${SLOW_TIMEOUT}s+${SLOW_MARGIN}s: $verdict ($(field "$slow_line" closed) closed," \
        "$(field "$slow_line" closed_at_once) at once, $(field "$slow_line" cut_by_timeout) by a timeout, max" \
        "$(field "$slow_line" lifetime_max_s) s, oldest open $(field "$slow_line" oldest_open_s) s);" \
        "CPU server/slow script $server_cores/$(field "$slow_line" cpu_per_s); new clients: $(probe_summary "$probe_out")"
    stop_server "$pid"
}

flood() {
    echo
    echo "== login flood: $FLOOD_CONNECTIONS connections on /login (password $FLOOD_PASSWORD)," \
        "/protected at $LOAD_CONNECTIONS connections for ${FLOOD_SECONDS}s each"
    local pinned="unpinned: the server, its bcrypt threads and wrk share every CPU"
    if [[ "${FLOOD_PIN:-1}" == 1 && "$(nproc --all)" -ge 2 ]] && command -v taskset >/dev/null; then
        SERVER_WRAP=(taskset -c 0)
        LOAD_WRAP=(taskset -c 1)
        pinned="pinned: the server (and its password-check threads) on CPU 0, both wrk on CPU 1"
    fi
    echo "   $pinned"
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
    LOGIN_PASSWORD="$FLOOD_PASSWORD" ${LOAD_WRAP[@]+"${LOAD_WRAP[@]}"} wrk -t1 -c"$FLOOD_CONNECTIONS" -d"$((FLOOD_SECONDS + 4))s" \
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
        'BEGIN { if (r >= 0.9 && p99 <= 5) print "met"; else print "NOT met" }')"
    echo "during the flood: $(field "$during" rps) req/s, p50 $(field "$during" p50_ms) ms," \
        "p99 $(field "$during" p99_ms) ms; answers >= 400 $(field "$during" status_errors)"
    echo "ratio during/unloaded: req/s ${rate_ratio}x," \
        "p99 $(ratio "$(field "$during" p99_ms)" "$(field "$unloaded" p99_ms)")x"
    echo "/login: $(field "$flood_line" requests) answers in $(field "$flood_line" seconds)s" \
        "($(field "$flood_line" rps)/s, p50 $(field "$flood_line" p50_ms) ms, p99 $(field "$flood_line" p99_ms) ms):" \
        "200 $(field "$flood_line" s200), 401 $(field "$flood_line" s401), 429 $(field "$flood_line" s429)," \
        "503 $(field "$flood_line" s503), other $(field "$flood_line" s_other); socket errors" \
        "c/r/w/t $(field "$flood_line" connect_errors)/$(field "$flood_line" read_errors)/$(field "$flood_line" write_errors)/$(field "$flood_line" timeouts)"
    echo "target (>= 0.9x unloaded req/s and p99 <= 5 ms during the flood, $pinned): $verdict"
    summary "flood   /protected $(field "$unloaded" rps) -> $(field "$during" rps) req/s (${rate_ratio}x)," \
        "p99 $(field "$unloaded" p99_ms) -> $(field "$during" p99_ms) ms; /login" \
        "200/401/429/503/other $(field "$flood_line" s200)/$(field "$flood_line" s401)/$(field "$flood_line" s429)/$(field "$flood_line" s503)/$(field "$flood_line" s_other);" \
        "target (>= 0.9x, p99 <= 5 ms, ${pinned%%:*}): $verdict"
    stop_server "$pid"
    SERVER_WRAP=()
    LOAD_WRAP=()
}

logins() {
    echo
    echo "== logins alone: /login with 1, then $LOGIN_CONNECTIONS connections, ${LOGIN_SECONDS}s each" \
        "(password $FLOOD_PASSWORD, throttling off, unpinned: $(nproc) cores)"
    start_hyperjwt logins LOGIN_MAX_FAILURES_PER_USER=1000000000 LOGIN_MAX_FAILURES_PER_ADDRESS=1000000000
    ADDR="$SERVER_ADDR"
    local pid="$SERVER_PID" connections one many out
    for connections in 1 "$LOGIN_CONNECTIONS"; do
        out="$WORK/wrk-logins-$connections.txt"
        LOGIN_PASSWORD="$FLOOD_PASSWORD" run wrk -t1 -c"$connections" -d"${LOGIN_SECONDS}s" \
            --timeout 30s --latency -s "$LOGIN" "http://$ADDR" >"$out"
        if [[ "$connections" == 1 ]]; then one="$(wrk_line "$out")"; else many="$(wrk_line "$out")"; fi
    done
    local capacity rate_ratio verdict
    # From the counts and durations: wrk's rps has one decimal, coarse at a few logins a second.
    local one_rate many_rate
    one_rate="$(ratio "$(field "$one" requests)" "$(field "$one" seconds)")"
    many_rate="$(ratio "$(field "$many" requests)" "$(field "$many" seconds)")"
    capacity="$(awk -v r="$one_rate" -v n="$(nproc)" 'BEGIN { printf "%.2f", r * n }')"
    rate_ratio="$(ratio "$many_rate" "$capacity")"
    verdict="$(awk -v r="$rate_ratio" 'BEGIN { if (r >= 0.9) print "met"; else print "NOT met" }')"
    echo "1 connection:     $one_rate logins/s, p50 $(field "$one" p50_ms) ms (one bcrypt" \
        "check and its request); capacity $(nproc) cores x that = $capacity/s"
    echo "$LOGIN_CONNECTIONS connections:    $many_rate logins/s, p50 $(field "$many" p50_ms) ms," \
        "p99 $(field "$many" p99_ms) ms; 200 $(field "$many" s200), other than 200" \
        "$(($(field "$many" requests) - $(field "$many" s200)))"
    echo "target (>= 0.9x capacity): ${rate_ratio}x, $verdict"
    summary "logins  $many_rate/s with $LOGIN_CONNECTIONS connections = ${rate_ratio}x of" \
        "$(nproc) cores x $one_rate/s (one connection); target (>= 0.9x): $verdict"
    stop_server "$pid"
}

# cpu_list FIRST LAST: a taskset CPU list ("0-1", or "3" when FIRST is LAST).
cpu_list() {
    if (($1 == $2)); then echo "$1"; else echo "$1-$2"; fi
}

# check_ticks PID: the CPU time (clock ticks) of the server's password-check threads so far.
check_ticks() {
    cat /proc/"$1"/task/*/stat 2>/dev/null |
        awk '$2 ~ /^\(password-check/ { t += $14 + $15 } END { print t + 0 }'
}

# server_figures ADDR: "CHECK_SECONDS CHECKS LOGINS_OK" from the server's /metrics: the sum and
# count of hyperjwt_password_check_duration_seconds, and the logins answered 200 (every client's).
server_figures() {
    curl -sf "http://$1/metrics" | awk '
        $1 == "hyperjwt_password_check_duration_seconds_sum" { sum = $2 }
        $1 == "hyperjwt_password_check_duration_seconds_count" { count = $2 }
        $1 == "hyperjwt_logins_total{result=\"ok\"}" { ok = $2 }
        END { print sum + 0, count + 0, ok + 0 }'
}

# between BEFORE AFTER SECONDS: "MEAN_CHECK_MS LOGINS_PER_S" from two server_figures lines taken
# SECONDS apart.
between() {
    awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[2] - x[2]
        if (n <= 0) printf "-"; else printf "%.0f", (y[1] - x[1]) / n * 1000
        printf " %.2f\n", (y[3] - x[3]) / s }'
}

# per_second COUNT SECONDS: a rate with one decimal.
per_second() {
    awk -v n="$1" -v s="$2" 'BEGIN { if (s == 0) print "-"; else printf "%.1f", n / s }'
}

OVERLOAD_RESULTS="$WORK/overload-results.txt"

# start_login_flood N SECONDS ADDR OUT [WRAPPER...]: wrk posting logins (FLOOD_PASSWORD) with N
# connections for SECONDS in the background, its output in OUT; sets FLOOD_PID.
start_login_flood() {
    local n="$1" seconds="$2" addr="$3" out="$4"
    shift 4
    LOGIN_PASSWORD="$FLOOD_PASSWORD" "$@" wrk -t1 -c"$n" -d"${seconds}s" --timeout 30s -s "$LOGIN" \
        "http://$addr" >"$out" &
    FLOOD_PID=$!
    PIDS+=("$FLOOD_PID")
}

# start_pinned NAME N [VAR=VALUE...]: start_hyperjwt on CPUs 0 to N-1; sets SERVER_CPUS, and
# CLIENT_CPUS to the other CPUs for the load generators (the same ones when none are left).
start_pinned() {
    local name="$1" n="$2" all
    shift 2
    all="$(nproc)"
    SERVER_CPUS="$(cpu_list 0 $((n - 1)))"
    CLIENT_CPUS="$SERVER_CPUS"
    if ((n < all)); then CLIENT_CPUS="$(cpu_list "$n" $((all - 1)))"; fi
    SERVER_WRAP=(taskset -c "$SERVER_CPUS")
    start_hyperjwt "$name" "$@"
    SERVER_WRAP=()
}

# overload_logins LABEL BIN CORES: login floods from 127.0.0.1 against BIN pinned to CORES CPUs;
# prints what it saw and appends one "OVERLOAD key=value ..." line to $OVERLOAD_RESULTS.
overload_logins() {
    local label="$1" BIN="$2" cores="$3"
    shift 3
    start_pinned "overload-$label-$cores" "$cores" "$@"
    local addr="$SERVER_ADDR" pid="$SERVER_PID" wrap=(taskset -c "$CLIENT_CPUS")
    local out line one_rate capacity check_ms result n seconds ticks checks cpu rate second durations
    local figures started
    local polite=""
    out="$WORK/overload-$label-$cores-1.txt"
    LOGIN_PASSWORD="$FLOOD_PASSWORD" run "${wrap[@]}" wrk -t1 -c1 -d"${OVERLOAD_SECONDS}s" --timeout 30s \
        -s "$LOGIN" "http://$addr" >"$out"
    line="$(wrk_line "$out")"
    one_rate="$(ratio "$(field "$line" s200)" "$(field "$line" seconds)")"
    check_ms="$(awk -v r="$one_rate" 'BEGIN { if (r == 0) print "-"; else printf "%.0f", 1000 / r }')"
    capacity="$(awk -v r="$one_rate" -v n="$cores" 'BEGIN { printf "%.2f", r * n }')"
    echo "[$label, server on CPUs $SERVER_CPUS, load on $CLIENT_CPUS] 1 connection: $one_rate logins/s," \
        "one check ${check_ms} ms; capacity $cores cores ÷ that = $capacity logins/s"
    result="OVERLOAD bin=$label cores=$cores check_ms=$check_ms capacity=$capacity c1=$(ratio "$one_rate" "$capacity")"
    for n in $OVERLOAD_FLOODS; do
        out="$WORK/overload-$label-$cores-$n.txt"
        # The flood starts first and ends last; the server's figures are taken over a window of
        # OVERLOAD_SECONDS inside it, once the places are full and before wrk stops (a login in
        # flight when wrk stops still ends, counted by the server, not by wrk).
        start_login_flood "$n" $((OVERLOAD_SECONDS + 2)) "$addr" "$out" "${wrap[@]}"
        sleep 1
        ticks="$(cpu_ticks "$pid")"
        checks="$(check_ticks "$pid")"
        figures="$(server_figures "$addr")"
        started="$(date +%s.%N)"
        second=""
        if [[ "$n" == 32 ]]; then
            # A second client logs in from another address meanwhile.
            run "${wrap[@]}" python3 "$ROOT/benches/login_client.py" "$addr" --source 127.0.0.2 \
                --seconds "$OVERLOAD_SECONDS" >"$WORK/overload-second-$label-$cores.txt" ||
                die "login_client.py failed: $(cat "$WORK/overload-second-$label-$cores.txt")"
            second="$(grep '^LOGINS ' "$WORK/overload-second-$label-$cores.txt")"
        else
            sleep "$OVERLOAD_SECONDS"
        fi
        seconds="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
        read -r durations rate <<<"$(between "$figures" "$(server_figures "$addr")" "$seconds")"
        cpu="$(cores_used $(($(cpu_ticks "$pid") - ticks)) "$seconds")"
        checks="$(cores_used $(($(check_ticks "$pid") - checks)) "$seconds")"
        reap "$FLOOD_PID" || die "the login flood's wrk failed: $(cat "$out")"
        line="$(wrk_line "$out")"
        # The logins of every client, counted by the server: during the 32-connection flood the
        # second client's fair share is goodput too. The first flood (8 connections, a polite load)
        # is the reference for the larger ones: on a host shared with other work both move
        # together, their ratio much less.
        [[ -n "$polite" ]] || polite="$rate"
        echo "  $n connections: $rate logins/s in all (the flood's" \
            "$(ratio "$(field "$line" s200)" "$(field "$line" seconds)")/s) = $(ratio "$rate" "$capacity")x capacity," \
            "$(ratio "$rate" "$polite")x the $(echo "$OVERLOAD_FLOODS" | cut -d' ' -f1)-connection rate;" \
            "503 $(per_second "$(field "$line" s503)" "$(field "$line" seconds)")/s," \
            "429 $(per_second "$(field "$line" s429)" "$(field "$line" seconds)")/s, other $(field "$line" s_other);" \
            "socket errors c/r/w/t $(field "$line" connect_errors)/$(field "$line" read_errors)/$(field "$line" write_errors)/$(field "$line" timeouts);" \
            "server CPU $cpu cores, of which the password checks $checks; one check took $durations ms"
        result+=" c$n=$(ratio "$rate" "$capacity") p$n=$(ratio "$rate" "$polite") rate$n=$rate check_ms$n=$durations"
        result+=" s503_$n=$(per_second "$(field "$line" s503)" "$(field "$line" seconds)")"
        result+=" s429_$n=$(per_second "$(field "$line" s429)" "$(field "$line" seconds)") cpu$n=$cpu checks$n=$checks"
        if [[ -n "$second" ]]; then
            echo "  meanwhile from 127.0.0.2, one login after another: $(field "$second" attempts) attempts," \
                "200 $(field "$second" s200), 503 $(field "$second" s503), other $(field "$second" s_other)," \
                "errors $(field "$second" errors); time to a 200: p50 $(field "$second" ok_p50_ms) ms," \
                "p99 $(field "$second" ok_p99_ms) ms (= $(ratio "$(field "$second" ok_p99_ms)" "$check_ms") checks of" \
                "the 1-connection run, $(ratio "$(field "$second" ok_p99_ms)" "$durations") of this flood's)"
            result+=" second_ok=$(field "$second" s200) second_503=$(field "$second" s503)"
            result+=" second_p50=$(field "$second" ok_p50_ms) second_p99=$(field "$second" ok_p99_ms)"
            result+=" second_checks=$(ratio "$(field "$second" ok_p99_ms)" "$check_ms")"
            result+=" second_checks_now=$(ratio "$(field "$second" ok_p99_ms)" "$durations")"
        fi
    done
    echo "$result" >>"$OVERLOAD_RESULTS"
    stop_server "$pid"
}

# overload_protected LABEL BIN: /protected alone and during each login flood of
# OVERLOAD_PROTECTED_FLOODS, pinned as the flood part; appends one "PROTECTED key=value ..." line.
overload_protected() {
    local label="$1" BIN="$2" half
    shift 2
    half=$(($(nproc) / 2 > 0 ? $(nproc) / 2 : 1))
    start_pinned "overload-protected-$label" "$half" "$@"
    ADDR="$SERVER_ADDR"
    local pid="$SERVER_PID" alone result n during out flood_line
    TOKEN="$(login_token "$ADDR")"
    export TOKEN
    LOAD_WRAP=(taskset -c "$CLIENT_CPUS")
    measure "overload-alone-$label" "$OVERLOAD_SECONDS"
    alone="$LINE"
    echo "[$label, server on CPUs $SERVER_CPUS, load on $CLIENT_CPUS] /protected alone:" \
        "$(field "$alone" rps) req/s, p99 $(field "$alone" p99_ms) ms"
    result="PROTECTED bin=$label alone_rps=$(field "$alone" rps) alone_p99=$(field "$alone" p99_ms)"
    for n in $OVERLOAD_PROTECTED_FLOODS; do
        out="$WORK/overload-protected-flood-$label-$n.txt"
        start_login_flood "$n" $((OVERLOAD_SECONDS + 4)) "$ADDR" "$out" "${LOAD_WRAP[@]}"
        sleep 2
        measure "overload-during-$label-$n" "$OVERLOAD_SECONDS"
        during="$LINE"
        reap "$FLOOD_PID" || die "the login flood's wrk failed: $(cat "$out")"
        flood_line="$(wrk_line "$out")"
        echo "  during a $n-connection login flood: $(field "$during" rps) req/s" \
            "($(ratio "$(field "$during" rps)" "$(field "$alone" rps)")x), p99 $(field "$during" p99_ms) ms;" \
            "answers >= 400 $(field "$during" status_errors); the flood: 200 $(field "$flood_line" s200)," \
            "503 $(field "$flood_line" s503)"
        result+=" r$n=$(ratio "$(field "$during" rps)" "$(field "$alone" rps)") p99_$n=$(field "$during" p99_ms)"
    done
    LOAD_WRAP=()
    echo "$result" >>"$OVERLOAD_RESULTS"
    stop_server "$pid"
}

overload() {
    local all cores core_counts=() round label bin order bins
    all="$(nproc)"
    for cores in ${OVERLOAD_CORES:-2 $all}; do
        ((cores <= all)) || continue
        [[ " ${core_counts[*]} " == *" $cores "* ]] || core_counts+=("$cores")
    done
    ((${#core_counts[@]} > 0)) || core_counts=("$all")
    require taskset
    raise_fd_limit 4096
    bins=("after=$BIN")
    if [[ -n "$OVERLOAD_BEFORE" ]]; then
        bins=("before=$OVERLOAD_BEFORE" "after=$BIN")
    fi
    # OVERLOAD_BINS="label=path[+VAR=value...] ...": any servers and settings, measured in turn.
    if [[ -n "${OVERLOAD_BINS:-}" ]]; then
        read -r -a bins <<<"$OVERLOAD_BINS"
    fi
    local settings
    for bin in "${bins[@]}"; do
        settings="${bin#*=}"
        [[ -x "${settings%%+*}" ]] || die "${bin%%=*}: ${settings%%+*} is not an executable"
    done
    echo
    echo "== overload: login floods of 1 and $OVERLOAD_FLOODS connections from 127.0.0.1 (password" \
        "$FLOOD_PASSWORD, default throttling), ${OVERLOAD_SECONDS}s each, the server on ${core_counts[*]}" \
        "CPUs; /protected during floods of $OVERLOAD_PROTECTED_FLOODS; $OVERLOAD_ROUNDS round(s) of" \
        "${bins[*]}; $(lscpu | sed -n 's/^Model name: *//p' | head -n1); $(uptime)"
    : >"$OVERLOAD_RESULTS"
    local i path extra
    for round in $(seq "$OVERLOAD_ROUNDS"); do
        # The servers take turns in the opposite order each round (ABBA), so none always runs first.
        order=()
        for i in "${!bins[@]}"; do
            if ((round % 2 == 0)); then order=("${bins[i]}" ${order[@]+"${order[@]}"}); else order+=("${bins[i]}"); fi
        done
        for bin in "${order[@]}"; do
            label="${bin%%=*}"
            settings="${bin#*=}"
            path="${settings%%+*}"
            extra=()
            if [[ "$settings" == *+* ]]; then IFS=+ read -r -a extra <<<"${settings#*+}"; fi
            echo "-- round $round: $label ($path${extra[*]+ with ${extra[*]}}), load average $(load_average)"
            for cores in "${core_counts[@]}"; do
                overload_logins "$label" "$path" "$cores" ${extra[@]+"${extra[@]}"}
            done
            overload_protected "$label" "$path" ${extra[@]+"${extra[@]}"}
        done
    done
    echo "-- medians over $OVERLOAD_ROUNDS round(s); load average now $(load_average)"
    python3 "$ROOT/benches/overload_summary.py" "$OVERLOAD_RESULTS" "$OVERLOAD_FLOODS" \
        "$OVERLOAD_PROTECTED_FLOODS" >"$WORK/overload-summary.txt"
    cat "$WORK/overload-summary.txt"
    local line
    while IFS= read -r line; do
        summary "overload $line"
    done <"$WORK/overload-summary.txt"
}

for part in $PARTS; do
    case "$part" in
        soak | slow | flood | logins | overload) "$part" ;;
        *) die "unknown part '$part' in PARTS (soak, slow, flood, logins, overload)" ;;
    esac
done

echo
echo "== summary ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
printf '%s\n' "${SUMMARY[@]}"
