#!/usr/bin/env bash
# hyperjwt vs a plain-hyper baseline (examples/baseline.rs) on GET /protected, with wrk.
#
#     benches/wrk/run.sh
#     DURATION=5 ROUNDS=3 CONNECTIONS=64 THREADS=2 benches/wrk/run.sh
#
# Builds both in release, starts them on free 127.0.0.1 ports, gets a real token from /login, then
# runs wrk against each in alternation (hyperjwt, baseline, hyperjwt, baseline, ...) so drift in the
# machine's load hits both alike. Prints req/s, p50 and p99 per run, the medians, and hyperjwt ÷
# baseline. Both get the identical request (the same Lua script and token). hyperjwt runs with
# LOG_LEVEL=warn (no access log line per request) unless LOG_LEVEL is set.
#
# It also reads each server's CPU time (utime + stime in /proc/PID/stat) around every run and prints
# server CPU per request. With wrk on the same cores, req/s also depends on how the kernel shares
# the cores between wrk and the server; CPU per request is what the server itself costs.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

DURATION="${DURATION:-10}"       # seconds per run
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"            # seconds of untimed load on each server first
SCRIPT="$ROOT/benches/wrk/protected.lua"

require wrk curl python3
raise_fd_limit $((CONNECTIONS + 1024))
echo "building (release)..."
build --bin hyperjwt
build --example baseline

start_hyperjwt hyperjwt
HYPERJWT_ADDR="$SERVER_ADDR"
HYPERJWT_PID="$SERVER_PID"
start_server baseline "$BASELINE_BIN"
BASELINE_ADDR="$SERVER_ADDR"
BASELINE_PID="$SERVER_PID"
TICKS_PER_SECOND="$(getconf CLK_TCK)"
TOKEN="$(login_token "$HYPERJWT_ADDR")"
export TOKEN
for addr in "$HYPERJWT_ADDR" "$BASELINE_ADDR"; do
    [[ "$(curl -s "http://$addr/protected" -H "Authorization: Bearer $TOKEN")" == '{"logged_in_as":"user1"}' ]] ||
        die "$addr/protected does not answer {\"logged_in_as\":\"user1\"}"
done

echo "hyperjwt on $HYPERJWT_ADDR (LOG_LEVEL=${LOG_LEVEL:-warn}), baseline on $BASELINE_ADDR"
echo "wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s per run, $ROUNDS rounds (ABAB), $(nproc) cores"
for addr in "$HYPERJWT_ADDR" "$BASELINE_ADDR"; do
    run wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$SCRIPT" "http://$addr" >/dev/null
done

RESULTS="$WORK/results"
: >"$RESULTS"
# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

printf '%-6s %-9s %10s %9s %9s %12s %7s\n' round server req/s p50_ms p99_ms cpu_us/req errors
for round in $(seq "$ROUNDS"); do
    for server in hyperjwt baseline; do
        if [[ "$server" == hyperjwt ]]; then
            addr="$HYPERJWT_ADDR" pid="$HYPERJWT_PID"
        else
            addr="$BASELINE_ADDR" pid="$BASELINE_PID"
        fi
        out="$WORK/wrk-$server-$round.txt"
        ticks_before="$(cpu_ticks "$pid")"
        run wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$SCRIPT" "http://$addr" >"$out"
        ticks="$(($(cpu_ticks "$pid") - ticks_before))"
        line="$(wrk_line "$out")"
        cpu_us="$(awk -v t="$ticks" -v hz="$TICKS_PER_SECOND" -v n="$(field "$line" requests)" \
            'BEGIN { printf "%.2f", (n > 0) ? t / hz / n * 1e6 : 0 }')"
        errors=$(($(field "$line" connect_errors) + $(field "$line" read_errors) + $(field "$line" write_errors) +
            $(field "$line" timeouts) + $(field "$line" status_errors)))
        printf '%-6s %-9s %10s %9s %9s %12s %7s\n' "$round" "$server" "$(field "$line" rps)" \
            "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$cpu_us" "$errors"
        echo "$server $line cpu_us=$cpu_us" >>"$RESULTS"
    done
done

python3 - "$RESULTS" <<'EOF'
import statistics, sys

runs = {"hyperjwt": [], "baseline": []}
for line in open(sys.argv[1]):
    server, _, *pairs = line.split()
    runs[server].append({k: float(v) for k, v in (p.split("=") for p in pairs)})

keys = ("rps", "p50_ms", "p99_ms", "cpu_us")
med = {s: {k: statistics.median(r[k] for r in rs) for k in keys} for s, rs in runs.items()}
print()
print("median    req/s      p50_ms    p99_ms  cpu_us/req")
for s in ("hyperjwt", "baseline"):
    m = med[s]
    print(f"{s:<9} {m['rps']:>9.0f} {m['p50_ms']:>9.3f} {m['p99_ms']:>9.3f} {m['cpu_us']:>11.2f}")
h, b = med["hyperjwt"], med["baseline"]
print(f"hyperjwt / baseline: req/s {h['rps'] / b['rps']:.2f}x, p99 {h['p99_ms'] / b['p99_ms']:.2f}x, "
      f"server CPU per request {h['cpu_us'] / b['cpu_us']:.2f}x")
EOF
