#!/usr/bin/env bash
# Where the server's CPU goes per GET /protected, natively (perf's software clock, no valgrind, so
# SHA-256 runs its real SHA-NI code): hyperjwt against the plain-hyper baseline, each pinned alone
# to CPU 0 under wrk on CPU 1, as benches/wrk/run.sh runs them.
#
#     benches/native_profile.sh                  # 3 rounds, 5 s of samples per server per round
#     ROUNDS=5 SECONDS_PER_SERVER=8 TOP=40 benches/native_profile.sh
#
# For each server it prints nanoseconds of server CPU per request by part (the kernel, SHA-256,
# the server's own code, serde_json, hyper, the allocator and memcpy, tokio, the rest), from the
# samples' symbols (medians over the rounds, the servers taken in turn), and then the top functions
# of the last round. With fat LTO, a function's samples include what was inlined into it (the
# baseline's closure holds much of hyper's dispatch), so compare totals more than parts. perf's own
# sampling interrupts add kernel time in proportion to the time sampled, so the kernel part of a
# slower server reads higher than it is; benches/wrk/run.sh's /proc figures split it better. Samples are of the server process only, so others' work on the machine does not count
# as the server's, but it still disturbs it (caches, the hypervisor): compare the two servers of
# one run, on a quiet machine.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROUNDS="${ROUNDS:-3}"
SECONDS_PER_SERVER="${SECONDS_PER_SERVER:-5}"
TOP="${TOP:-25}"
FREQUENCY="${FREQUENCY:-4999}"
require perf wrk python3 taskset

printf '\n==> %s\n' "building hyperjwt and the baseline with symbols (target/profiling)" >&2
CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    cargo build --release --quiet --bin hyperjwt --example baseline \
    --manifest-path "$ROOT/Cargo.toml" --target-dir "$ROOT/target/profiling"
PROF_BIN="$ROOT/target/profiling/release"
TOKEN="$(JWT_SECRET_KEY="$BENCH_SECRET" "$PROF_BIN/hyperjwt" token issue --sub user1 --ttl 3600)"
export TOKEN

SERVER_WRAP=(taskset -c 0)
for round in $(seq "$ROUNDS"); do for name in hyperjwt baseline; do
    case "$name" in
        hyperjwt) bin="$PROF_BIN/hyperjwt" ;;
        baseline) bin="$PROF_BIN/examples/baseline" ;;
    esac
    start_server "$name" "$bin" JWT_SECRET_KEY="$BENCH_SECRET" LOG_LEVEL=warn
    pid="$SERVER_PID"
    run taskset -c 1 wrk -t1 -c64 -d2s -s "$ROOT/benches/wrk/protected.lua" "http://$SERVER_ADDR" >/dev/null
    printf '\n==> %s\n' "round $round, $name: perf record for ${SECONDS_PER_SERVER}s under wrk (64 connections)" >&2
    out="$WORK/$name.$round"
    perf record -q -e cpu-clock -F "$FREQUENCY" -p "$pid" -o "$out.data" -- \
        sleep "$((SECONDS_PER_SERVER + 1))" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
    PIDS+=("$perf_pid")
    run taskset -c 1 wrk -t1 -c64 -d"${SECONDS_PER_SERVER}s" -s "$ROOT/benches/wrk/protected.lua" \
        "http://$SERVER_ADDR" >"$out.wrk"
    reap "$perf_pid" || true
    stop_server "$pid"
    grep '^WRK' "$out.wrk" | sed 's/.*requests=\([0-9]*\).*/\1/' >"$out.requests"
    # perf runs a little longer than wrk, but the software clock samples the server only while it
    # runs, and an idle server does not: the samples are those of wrk's requests.
    perf report -q -i "$out.data" --no-children --sort sym -F overhead,sample,sym --stdio \
        2>/dev/null >"$out.report"
    rm -f "$out.data"
done; done

python3 - "$WORK" "$FREQUENCY" "$TOP" "$ROUNDS" <<'EOF'
import re, statistics, sys
work, frequency, top, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

# A sample's symbol decides its part; the first pattern that matches wins. Rust symbols go by the
# crate their path starts with (after perf's "[.] " and an impl's "<"): our
# `hyperjwt::http::service::<impl hyper::service::Service<..> for App>::call` is ours, though it
# names hyper and http, and hyper's functions generic over our types are hyper's.
def leading(crates):
    return re.compile(r"^\[\.\]\s+<?(?:" + "|".join(crates) + r")::")
PARTS = [
    ("kernel", re.compile(r"^\[k\]")),
    ("SHA-256 (ring)", re.compile(r"sha256|sha2_|ring_core.*sha|block_data_order", re.I)),
    ("own code, with what it inlines", leading(["hyperjwt", "baseline", "base64"])),
    ("serde_json", leading(["serde_json", "serde", "serde_core"])),
    ("hyper and http", leading(["hyper", "http", "httparse", "hyper_util", "http_body_util", "bytes"])),
    ("allocator, memcpy", re.compile(r"malloc|free|realloc|memcpy|memmove|memset|_int_|cfree")),
    ("tokio", leading(["tokio", "mio"])),
]

def parts(run):
    requests = int(open(f"{work}/{run}.requests").read().strip() or 0)
    rows, totals = [], {}
    for line in open(f"{work}/{run}.report"):
        m = re.match(r"\s*([\d.]+)%\s+(\d+)\s+(.*)$", line)
        if not m:
            continue
        samples, symbol = int(m.group(2)), m.group(3).strip()
        rows.append((samples, symbol))
        part = next((p for p, rx in PARTS if rx.search(symbol)), "the rest")
        totals[part] = totals.get(part, 0) + samples
    ns = lambda s: s / frequency * 1e9 / max(requests, 1)
    return requests, rows, {p: ns(s) for p, s in totals.items()}, ns(sum(s for s, _ in rows)), ns

servers = ("hyperjwt", "baseline")
runs = {name: [parts(f"{name}.{r}") for r in range(1, rounds + 1)] for name in servers}
names = [p for p, _ in PARTS] + ["the rest"]
def median(name, part=None):
    return statistics.median(run[3] if part is None else run[2].get(part, 0) for run in runs[name])
print()
print(f"server CPU per GET /protected, ns, from perf samples at {frequency} Hz (medians of {rounds} rounds)")
print()
print("| part | hyperjwt | plain hyper | difference |")
print("|---|---|---|---|")
for p in names:
    a, b = median("hyperjwt", p), median("baseline", p)
    print(f"| {p} | {a:,.0f} | {b:,.0f} | {a - b:+,.0f} |")
a, b = median("hyperjwt"), median("baseline")
print(f"| **all** | **{a:,.0f}** | **{b:,.0f}** | **{a - b:+,.0f}** ({a / b:.2f}x) |")
for name in servers:
    print(f"\n{name}, every round: " + ", ".join(f"{run[3]:,.0f} ns over {run[0]:,} requests" for run in runs[name]))
for name in servers:
    requests, rows, _, _, ns = runs[name][-1]
    print(f"\n{name}: top {top} functions in the last round, ns per request")
    for samples, symbol in sorted(rows, reverse=True)[:top]:
        print(f"  {ns(samples):8.1f}  {symbol[:110]}")
EOF
