#!/usr/bin/env bash
# /metrics checked by its real consumers: `promtool check metrics` (the exposition's syntax and
# Prometheus' naming rules), then a real Prometheus scraping the server once on loopback and its
# query API asked for `up == 1` and hyperjwt's own series.
#
#     tests/ops/prometheus.sh                      # the release binary, target/release/hyperjwt
#     HYPERJWT_BIN=path tests/ops/prometheus.sh
#
# Needs promtool and prometheus (Debian: apt-get install -y prometheus; the system service is
# never started), curl and python3. Everything runs on free 127.0.0.1 ports in a temp directory;
# the script stops exactly the processes it started, by PID. Prints "promtool: ok" and the query
# answers; exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$(realpath "${HYPERJWT_BIN:-$ROOT/target/release/hyperjwt}")"
for tool in promtool prometheus curl python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install -y prometheus curl python3)" >&2; exit 1; }
done
[[ -x "$BIN" ]] || { echo "error: no server binary at $BIN (cargo build --release)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hyperjwt-prometheus.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAILED: $*" >&2
    for log in "$WORK"/*.log; do echo "--- $log" >&2; tail -n 20 "$log" >&2; done
    exit 1
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for URL: until it answers 2xx, for up to 10 s.
wait_for() {
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    fail "$1 did not answer"
}

API_PORT="$(free_port)" METRICS_PORT="$(free_port)" PROM_PORT="$(free_port)"
API="http://127.0.0.1:$API_PORT" METRICS="127.0.0.1:$METRICS_PORT"
(cd "$WORK" && exec env -i PATH="$PATH" HOST=127.0.0.1 PORT="$API_PORT" METRICS_ADDR="$METRICS" \
    JWT_SECRET_KEY=prometheus-check-0123456789abcdef0123456789 DENYLIST_FILE="$WORK/denylist" \
    LOGIN_MAX_FAILURES_PER_USER=1 LOG_LEVEL=warn "$BIN") >"$WORK/hyperjwt.log" 2>&1 &
PIDS+=("$!")
wait_for "$API/health/live"

# Something to count: a login, a good and a refused /protected, a logout.
token="$(curl -sf -X POST "$API/login" -H 'Content-Type: application/json' \
    -d '{"username":"user1","password":"password1"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
curl -sf -o /dev/null "$API/protected" -H "Authorization: Bearer $token" || fail "/protected"
curl -s -o /dev/null "$API/protected" -H "Authorization: Bearer two.segments"
curl -sf -o /dev/null -X POST "$API/logout" -H "Authorization: Bearer $token" || fail "/logout"
# A limit that acts: one failed login for a name, then the 429 of LOGIN_MAX_FAILURES_PER_USER=1.
for expected in 401 429; do
    status="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/login" -H 'Content-Type: application/json' \
        -d '{"username":"nobody","password":"wrong"}')"
    [[ "$status" == "$expected" ]] || fail "a failed login answered $status, not $expected"
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$API/metrics")" == 404 ]] || fail "the main listener serves /metrics despite METRICS_ADDR"

curl -sf "http://$METRICS/metrics" >"$WORK/metrics.txt" || fail "GET http://$METRICS/metrics"
echo "scraped $(wc -l <"$WORK/metrics.txt") lines from http://$METRICS/metrics"
echo "+ promtool check metrics < metrics.txt"
if ! promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1; then
    cat "$WORK/promtool.out"
    fail "promtool check metrics"
fi
if [[ -s "$WORK/promtool.out" ]]; then
    # promtool lists lint problems (names, units, HELP) even when it exits 0: any is a failure.
    cat "$WORK/promtool.out"
    fail "promtool reported problems"
fi
echo "promtool: ok (no problems reported)"

cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hyperjwt
    static_configs:
      - targets: ["$METRICS"]
YAML
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$WORK/prometheus.yml" --web.listen-address="127.0.0.1:$PROM_PORT" \
    --storage.tsdb.path="$WORK/tsdb" >"$WORK/prometheus.log" 2>&1 &
PIDS+=("$!")
PROM="http://127.0.0.1:$PROM_PORT"
wait_for "$PROM/-/ready"

# query PROMQL: the first result's value, or nothing.
query() {
    curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
answer = json.load(sys.stdin)
results = answer["data"]["result"] if answer.get("status") == "success" else []
print(results[0]["value"][1] if results else "")'
}
# expect PROMQL VALUE: waits (scrapes come every second) until the query answers VALUE.
expect() {
    local got=""
    for _ in $(seq 100); do
        got="$(query "$1" || true)"
        [[ "$got" == "$2" ]] && { echo "prometheus: $1 = $got"; return 0; }
        sleep 0.1
    done
    fail "prometheus: $1 is '${got}', expected $2"
}
expect 'up{job="hyperjwt"}' 1
expect 'hyperjwt_logins_total{job="hyperjwt",result="ok"}' 1
expect 'hyperjwt_token_refusals_total{job="hyperjwt",reason="segments"}' 1
expect 'hyperjwt_revocations_total{job="hyperjwt",kind="session"}' 1
expect 'hyperjwt_http_request_duration_seconds_count{job="hyperjwt",route="/protected"}' 2
expect 'hyperjwt_build_info{job="hyperjwt"}' 1
expect 'hyperjwt_limit_hits_total{job="hyperjwt",limit="login_max_failures_per_user"}' 1
# A histogram Prometheus can compute with: the median /protected latency is under 10 ms.
expect 'histogram_quantile(0.5, hyperjwt_http_request_duration_seconds_bucket{job="hyperjwt",route="/protected"}) < bool 0.01' 1
echo "prometheus: scraped hyperjwt on $METRICS; every query answered as expected"
