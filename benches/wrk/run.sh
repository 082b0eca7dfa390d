#!/usr/bin/env bash
# hyperjwt vs a plain-hyper baseline (examples/baseline.rs) vs an axum peer (benches/peers/axum-jwt)
# on GET /protected, with wrk.
#
#     benches/wrk/run.sh
#     DURATION=5 ROUNDS=5 CONNECTIONS=64 PEERS="hyperjwt axum" benches/wrk/run.sh
#     PEERS="hyperjwt hyperjwt+METRICS=off" benches/wrk/run.sh      # one setting's cost
#     PEERS="hyperjwt hyperjwt@/path/to/older/hyperjwt" benches/wrk/run.sh  # another build
#
# A peer `hyperjwt+VAR=VALUE[+VAR=VALUE...]` is hyperjwt started with those settings as well, and
# `hyperjwt@PATH[+VAR=VALUE...]` the hyperjwt binary at PATH: variants measured in turn with the
# others, in the same run.
#
# Builds all three in release, starts them on free 127.0.0.1 ports, gets one real token from
# hyperjwt's /login, then runs wrk against each in turn, round after round (hyperjwt, baseline, axum,
# hyperjwt, ...), so drift in the machine's load hits all alike. Every server gets the identical
# request: the same Lua script and the same token (all three verify it with the same key). hyperjwt
# runs with LOG_LEVEL=warn (no access log line per request) unless LOG_LEVEL is set.
#
# Pinning: on a host with two or more CPUs the servers run on SERVER_CPUS (default 0) and wrk on
# WRK_CPUS (default 1), with taskset, so the server and the load generator do not take CPU from each
# other; with one wrk thread per wrk CPU, THREADS defaults to 1 then. PIN=0 runs unpinned.
#
# For each run it prints req/s, p50, p99 and the server's CPU time per request (utime + stime from
# /proc/PID/stat, read before and after the run) with the kernel's part of it (stime), then the
# medians over the rounds and the ratios to the plain-hyper baseline (RATIO_TO=server: to another
# one of PEERS). CPU per request is the figure that depends least on the machine.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

DURATION="${DURATION:-10}" # seconds per run
CONNECTIONS="${CONNECTIONS:-64}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}" # seconds of untimed load on each server first
PEERS="${PEERS:-hyperjwt baseline axum}"
PIN="${PIN:-1}"
SERVER_CPUS="${SERVER_CPUS:-0}"
WRK_CPUS="${WRK_CPUS:-1}"
SCRIPT="$ROOT/benches/wrk/protected.lua"

read -r -a SERVERS <<<"$PEERS"
[[ ${#SERVERS[@]} -gt 0 ]] || die "PEERS is empty"
for server in "${SERVERS[@]}"; do
    case "$server" in
        hyperjwt | hyperjwt+*=* | hyperjwt@* | baseline | axum) ;;
        *) die "unknown server '$server' in PEERS (hyperjwt, hyperjwt+VAR=VALUE, hyperjwt@PATH, baseline, axum)" ;;
    esac
done
# The widest server name, for the table.
NAME_WIDTH=9
for server in "${SERVERS[@]}"; do
    [[ ${#server} -le $NAME_WIDTH ]] || NAME_WIDTH=${#server}
done
[[ "$ROUNDS" -ge 1 ]] || die "ROUNDS must be at least 1"

require wrk curl python3

# Pin when we can; say loudly when we cannot.
WRK_WRAP=()
PINNED=""
if [[ "$PIN" == 0 ]]; then
    echo "PIN=0: server and wrk run unpinned, sharing every CPU" >&2
elif [[ "$(nproc --all)" -lt 2 ]]; then
    echo "!!! one CPU only: server and wrk run unpinned on the same CPU; req/s says little, compare CPU per request !!!" >&2
elif ! command -v taskset >/dev/null; then
    echo "!!! taskset not found (util-linux): server and wrk run UNPINNED and compete for the CPUs; req/s depends on the kernel's sharing, compare CPU per request !!!" >&2
else
    taskset -c "$SERVER_CPUS" true 2>/dev/null || die "taskset cannot use SERVER_CPUS=$SERVER_CPUS here (PIN=0 runs unpinned)"
    taskset -c "$WRK_CPUS" true 2>/dev/null || die "taskset cannot use WRK_CPUS=$WRK_CPUS here (PIN=0 runs unpinned)"
    SERVER_WRAP=(taskset -c "$SERVER_CPUS")
    WRK_WRAP=(taskset -c "$WRK_CPUS")
    PINNED=1
    # The server CPUs as numbers ("0-1,3" -> "0 1 3"), to read their busy time from /proc/stat.
    SERVER_CPU_LIST="$(python3 -c 'import sys
cpus = []
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    cpus += range(int(a), int(b or a) + 1)
print(*cpus)' "$SERVER_CPUS")"
fi
# One wrk thread per wrk CPU when pinned (a second thread on one CPU only adds switching).
THREADS="${THREADS:-$([[ -n "$PINNED" ]] && echo 1 || echo 2)}"

raise_fd_limit $((CONNECTIONS + 1024))
echo "building (release)..."
for server in "${SERVERS[@]}"; do
    case "$server" in
        hyperjwt) build --bin hyperjwt ;;
        baseline) build --example baseline ;;
        axum) build_peer ;;
    esac
done
# The token comes from hyperjwt's /login, so hyperjwt is built and started even when not measured.
[[ " $PEERS " == *" hyperjwt "* ]] || build --bin hyperjwt

declare -A ADDR PID
start_hyperjwt hyperjwt
ADDR[hyperjwt]="$SERVER_ADDR" PID[hyperjwt]="$SERVER_PID"
for server in "${SERVERS[@]}"; do
    case "$server" in
        baseline) start_server baseline "$BASELINE_BIN" ;;
        axum) start_server axum "$AXUM_BIN" JWT_SECRET_KEY="$BENCH_SECRET" ;;
        hyperjwt+* | hyperjwt@*)
            # hyperjwt[@PATH][+VAR=VALUE...]
            variant="${server#hyperjwt}" variant_bin="$BIN"
            if [[ "$variant" == @* ]]; then
                variant_bin="${variant#@}" variant_bin="${variant_bin%%+*}"
                [[ "$variant" == *+* ]] && variant="+${variant#*+}" || variant=""
                [[ -x "$variant_bin" ]] || die "$server: no executable at $variant_bin"
            fi
            IFS=+ read -r -a settings <<<"${variant#+}"
            own_bin="$BIN" BIN="$variant_bin"
            start_hyperjwt "${server//\//_}" ${settings[@]+"${settings[@]}"}
            BIN="$own_bin"
            ;;
        *) continue ;;
    esac
    ADDR[$server]="$SERVER_ADDR" PID[$server]="$SERVER_PID"
done
TICKS_PER_SECOND="$(getconf CLK_TCK)"
TOKEN="$(login_token "${ADDR[hyperjwt]}")"
export TOKEN
# Each hyperjwt variant presents a token from its own /login (a variant with JWT_ALGORITHM=EdDSA
# signs with its own key set); the other servers share hyperjwt's.
declare -A TOKENS
for server in "${SERVERS[@]}"; do
    case "$server" in
        hyperjwt+* | hyperjwt@*) TOKENS[$server]="$(login_token "${ADDR[$server]}")" ;;
        *) TOKENS[$server]="$TOKEN" ;;
    esac
    [[ "$(curl -s "http://${ADDR[$server]}/protected" -H "Authorization: Bearer ${TOKENS[$server]}")" == '{"logged_in_as":"user1"}' ]] ||
        die "$server (${ADDR[$server]}) /protected does not answer {\"logged_in_as\":\"user1\"}"
done
# The peer's own login works, and hyperjwt accepts its tokens: the same API, not a stub.
if [[ -n "${ADDR[axum]:-}" ]]; then
    peer_token="$(login_token "${ADDR[axum]}")"
    [[ "$(curl -s "http://${ADDR[hyperjwt]}/protected" -H "Authorization: Bearer $peer_token")" == '{"logged_in_as":"user1"}' ]] ||
        die "hyperjwt does not accept a token from the axum peer's /login"
fi

for server in "${SERVERS[@]}"; do
    echo "$server on ${ADDR[$server]}"
done
if [[ -n "$PINNED" ]]; then
    echo "pinned: servers on CPU $SERVER_CPUS, wrk on CPU $WRK_CPUS ($(nproc --all) CPUs)"
else
    echo "UNPINNED: servers and wrk share the $(nproc --all) CPUs"
fi
echo "wrk: THREADS=$THREADS CONNECTIONS=$CONNECTIONS DURATION=${DURATION}s ROUNDS=$ROUNDS (${PEERS// /, } in turn); hyperjwt LOG_LEVEL=${LOG_LEVEL:-warn}"
for server in "${SERVERS[@]}"; do
    export TOKEN="${TOKENS[$server]}"
    run ${WRK_WRAP[@]+"${WRK_WRAP[@]}"} wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$SCRIPT" "http://${ADDR[$server]}" >/dev/null
done

RESULTS="$WORK/results"
: >"$RESULTS"
# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
# sys_ticks PID: the part of that spent in the kernel (stime: reads, writes, epoll for its sockets).
sys_ticks() {
    awk '{ print $15 }' "/proc/$1/stat"
}
# busy_ticks: the time the server CPUs spent running tasks so far (user, nice, system) or taken by
# the hypervisor (steal), in clock ticks, whoever ran; 0 when unpinned. Interrupt time is left out,
# as it is from the server's own utime + stime. Minus the server's own time, that is what other
# work took from the server's CPUs during a run.
busy_ticks() {
    [[ -n "$PINNED" ]] || { echo 0; return; }
    awk -v cpus=" $SERVER_CPU_LIST " 'index(cpus, " " substr($1, 4) " ") && $1 ~ /^cpu[0-9]+$/ {
        busy += $2 + $3 + $4 + $9 } END { print busy + 0 }' /proc/stat
}

# cpu_cores: cores' worth of CPU the server used during the run; others: what everything else took
# from the server's CPUs meanwhile (pinned only; near 0 on a quiet machine).
printf "%-6s %-${NAME_WIDTH}s %10s %9s %9s %11s %11s %10s %7s %7s\n" round server req/s p50_ms p99_ms cpu_us/req sys_us/req cpu_cores others errors
for round in $(seq "$ROUNDS"); do
    for server in "${SERVERS[@]}"; do
        out="$WORK/wrk-${server//\//_}-$round.txt"
        export TOKEN="${TOKENS[$server]}"
        ticks_before="$(cpu_ticks "${PID[$server]}")" sys_before="$(sys_ticks "${PID[$server]}")"
        busy_before="$(busy_ticks)"
        run ${WRK_WRAP[@]+"${WRK_WRAP[@]}"} wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$SCRIPT" \
            "http://${ADDR[$server]}" >"$out"
        ticks="$(($(cpu_ticks "${PID[$server]}") - ticks_before))"
        sys="$(($(sys_ticks "${PID[$server]}") - sys_before))"
        others="$(($(busy_ticks) - busy_before - ticks))"
        line="$(wrk_line "$out")"
        read -r cpu_us sys_us cores others < <(awk -v t="$ticks" -v k="$sys" -v o="$others" -v hz="$TICKS_PER_SECOND" \
            -v n="$(field "$line" requests)" -v s="$(field "$line" seconds)" 'BEGIN {
                if (o < 0) o = 0
                if (s <= 0) s = 1
                printf "%.2f %.2f %.2f %.2f\n", (n > 0) ? t / hz / n * 1e6 : 0, (n > 0) ? k / hz / n * 1e6 : 0,
                    t / hz / s, o / hz / s }')
        errors=$(($(field "$line" connect_errors) + $(field "$line" read_errors) + $(field "$line" write_errors) +
            $(field "$line" timeouts) + $(field "$line" status_errors)))
        printf "%-6s %-${NAME_WIDTH}s %10s %9s %9s %11s %11s %10s %7s %7s\n" "$round" "$server" "$(field "$line" rps)" \
            "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$cpu_us" "$sys_us" "$cores" \
            "$([[ -n "$PINNED" ]] && echo "$others" || echo -)" "$errors"
        echo "$server $line cpu_us=$cpu_us sys_us=$sys_us cores=$cores others=$others errors=$errors" >>"$RESULTS"
    done
done

python3 - "$RESULTS" "$PINNED" "${RATIO_TO:-baseline}" "${SERVERS[@]}" <<'EOF'
import statistics, sys

pinned = sys.argv[2] == "1"
ratio_to = sys.argv[3]
order = sys.argv[4:]
runs = {s: [] for s in order}
for line in open(sys.argv[1]):
    server, _, *pairs = line.split()
    runs[server].append({k: float(v) for k, v in (p.split("=") for p in pairs)})

keys = ("rps", "p50_ms", "p99_ms", "cpu_us", "sys_us", "others")
med = {s: {k: statistics.median(r[k] for r in rs) for k in keys} for s, rs in runs.items()}
base = med.get(ratio_to)

def ratio(s, k):
    return f"{med[s][k] / base[k]:.2f}x" if base and base[k] > 0 else "-"

rounds = len(runs[order[0]])
print()
base_name = "the plain-hyper baseline" if ratio_to == "baseline" else ratio_to
print(f"medians of {rounds} round{'s' if rounds != 1 else ''}; ratios to {base_name} "
      "(req/s: higher is better; CPU: lower is better)")
print()
print(f"| server | req/s | p50 | p99 | CPU µs/req | of it in the kernel | req/s ÷ {ratio_to} | CPU ÷ {ratio_to} |")
print("|---|---|---|---|---|---|---|---|")
for s in order:
    m = med[s]
    print(f"| {s} | {m['rps']:,.0f} | {m['p50_ms']:.3f} ms | {m['p99_ms']:.3f} ms | {m['cpu_us']:.2f} "
          f"| {m['sys_us']:.2f} | {ratio(s, 'rps')} | {ratio(s, 'cpu_us')} |")
failed = [s for s in order if sum(r["errors"] for r in runs[s]) > 0]
# Pinned, the server's CPU should be the server's alone: anything else there makes req/s noise.
busy = [f"{s} {med[s]['others']:.2f}" for s in order if pinned and med[s]["others"] > 0.05]
if busy:
    print(f"\nwarning: other work took CPU from the servers' CPU during the runs ({', '.join(busy)} "
          "of a core, medians): req/s and latency are noise; measure on a quiet machine")
if failed:
    print(f"\nwarning: socket errors or answers >= 400 from {', '.join(failed)}: see the runs above")
EOF
