#!/usr/bin/env bash
# Instructions per GET /protected in the real release server, counted by callgrind: immune to the
# noise of a shared machine (other processes, frequency changes), so small costs show.
#
#     benches/callgrind.sh                                   # hyperjwt, and hyperjwt with METRICS=off
#     VARIANTS="hyperjwt hyperjwt@/path/to/old/hyperjwt" benches/callgrind.sh
#
# Each variant (`hyperjwt`, `hyperjwt+VAR=VALUE[+...]`, `hyperjwt@PATH[+VAR=VALUE...]`, as in
# benches/wrk/run.sh) runs under `valgrind --tool=callgrind` with instrumentation off; wrk warms it up,
# instrumentation is switched on (`callgrind_control -i on`) for REQUESTS_SECONDS of load, then off, and
# the instructions counted are divided by the requests wrk completed. Connections stay open
# (keep-alive), as in the wrk runs, so connection set-up is not in the figure. The token is minted
# with `hyperjwt token issue` (no bcrypt under valgrind). LOG_LEVEL=warn, as in the wrk runs.
set -euo pipefail
# shellcheck source=benches/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VARIANTS="${VARIANTS:-hyperjwt hyperjwt+METRICS=off}"
REQUESTS_SECONDS="${REQUESTS_SECONDS:-10}"
CONNECTIONS="${CONNECTIONS:-4}"
require wrk curl valgrind callgrind_control
[[ -x "$BIN" ]] || build --bin hyperjwt

token="$(cd "$WORK" && env -i JWT_SECRET_KEY="$BENCH_SECRET" "$BIN" token issue --sub user1 --ttl 3600 2>/dev/null)"
export TOKEN="$token"
printf '%-44s %10s %16s %12s\n' variant requests instructions instr/req
for variant in $VARIANTS; do
    rest="${variant#hyperjwt}" bin="$BIN"
    if [[ "$rest" == @* ]]; then
        bin="${rest#@}" bin="${bin%%+*}"
        [[ "$rest" == *+* ]] && rest="+${rest#*+}" || rest=""
    fi
    IFS=+ read -r -a settings <<<"${rest#+}"
    name="${variant//\//_}" port="$(free_port)" out="$WORK/$name.callgrind"
    (cd "$WORK" && exec env JWT_SECRET_KEY="$BENCH_SECRET" LOG_LEVEL=warn HOST=127.0.0.1 PORT="$port" \
        ${settings[@]+"${settings[@]}"} valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$out" "$bin") >"$WORK/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 600); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$variant exited at start-up"; }
        sleep 0.1
    done
    [[ "$(curl -s "http://127.0.0.1:$port/protected" -H "Authorization: Bearer $TOKEN")" == '{"logged_in_as":"user1"}' ]] ||
        die "$variant: /protected does not answer {\"logged_in_as\":\"user1\"}"
    run wrk -t1 -c"$CONNECTIONS" -d3s -s "$ROOT/benches/wrk/protected.lua" "http://127.0.0.1:$port" >/dev/null
    # vgdb names its pipes after $HOST, which the server has set to 127.0.0.1.
    HOST=127.0.0.1 callgrind_control -i on "$pid" >/dev/null
    run wrk -t1 -c"$CONNECTIONS" -d"${REQUESTS_SECONDS}s" -s "$ROOT/benches/wrk/protected.lua" \
        "http://127.0.0.1:$port" >"$WORK/$name.wrk"
    HOST=127.0.0.1 callgrind_control -i off "$pid" >/dev/null
    stop_server "$pid"
    requests="$(field "$(wrk_line "$WORK/$name.wrk")" requests)"
    instructions="$(sed -n 's/^totals: //p' "$out"* | awk '{ sum += $1 } END { print sum + 0 }')"
    printf '%-44s %10s %16s %12.0f\n' "$variant" "$requests" "$instructions" \
        "$(awk -v i="$instructions" -v n="$requests" 'BEGIN { print (n > 0) ? i / n : 0 }')"
done
