#!/usr/bin/env bash
# Instructions per GET /protected request, hyperjwt against the plain-hyper baseline
# (examples/baseline.rs), counted by valgrind's callgrind in the server process: the profile of the
# whole request that issue 11 asks for, repeatable on a shared machine (wrk's req/s is not).
#
#     benches/request_instructions.sh              # 2,000 and 8,000 requests per server
#     PROFILE=1 benches/request_instructions.sh    # also prints each server's top functions
#
# Each server runs under callgrind twice, for N1 and N2 keep-alive requests from one client
# connection; the difference over N2 - N1 is the cost of one request, without start-up and
# shut-down. Built with symbols into target/profiling so PROFILE=1 can name functions.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N1="${N1:-2000}"
N2="${N2:-8000}"
require valgrind python3

step() { printf '\n==> %s\n' "$*" >&2; }
step "building hyperjwt and the baseline with symbols (target/profiling)"
CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    cargo build --release --quiet --bin hyperjwt --example baseline \
    --manifest-path "$ROOT/Cargo.toml" --target-dir "$ROOT/target/profiling"
PROF_BIN="$ROOT/target/profiling/release"
TOKEN="$(JWT_SECRET_KEY="$BENCH_SECRET" "$PROF_BIN/hyperjwt" token issue --sub user1 --ttl 3600)"

# Runs server $1 under callgrind for $2 requests; prints its total instruction count.
count() {
    local name="$1" n="$2" port out pid
    port="$(free_port)"
    out="$WORK/$name.$n.callgrind"
    case "$name" in
        hyperjwt) set -- "$PROF_BIN/hyperjwt" ;;
        baseline) set -- "$PROF_BIN/examples/baseline" ;;
    esac
    (cd "$WORK" && HOST=127.0.0.1 PORT="$port" JWT_SECRET_KEY="$BENCH_SECRET" LOG_LEVEL=warn \
        WORKER_THREADS=1 exec valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
        >"$WORK/$name.log" 2>&1) &
    pid=$!
    python3 "$ROOT/benches/keepalive_requests.py" --port "$port" --path /protected \
        --token "$TOKEN" --count "$n" --wait 60 >&2
    kill -TERM "$pid"
    wait "$pid" || true
    [[ -n "${PROFILE:-}" && "$n" == "$N2" ]] && cp "$out" "$WORK/$name.profile"
    awk '/^summary:/ {print $2}' "$out"
}

declare -A per_request
for name in hyperjwt baseline; do
    step "$name: $N1 then $N2 requests under callgrind"
    a="$(count "$name" "$N1")"
    b="$(count "$name" "$N2")"
    per_request[$name]=$(( (b - a) / (N2 - N1) ))
done
echo
printf '%-10s %8d instructions per GET /protected\n' hyperjwt "${per_request[hyperjwt]}" baseline "${per_request[baseline]}"
awk -v a="${per_request[hyperjwt]}" -v b="${per_request[baseline]}" \
    'BEGIN { printf "hyperjwt / baseline: %.2fx (%d instructions above plain hyper)\n", a / b, a - b }'
if [[ -n "${PROFILE:-}" ]]; then
    for name in hyperjwt baseline; do
        step "$name: top functions over $N2 requests (self instructions)"
        callgrind_annotate "$WORK/$name.profile" 2>/dev/null | sed -n '/file:function/,$p' | head -40
    done
fi
