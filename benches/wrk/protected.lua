-- wrk script: GET /protected with `Authorization: Bearer $TOKEN` (an access token from POST /login).
--
--     TOKEN=... wrk -t2 -c64 -d10s --latency -s benches/wrk/protected.lua http://127.0.0.1:5000
--
-- benches/wrk/run.sh and benches/load-test.sh obtain the token and run this for you. done() prints one
-- "WRK key=value ..." line for the scripts to parse; latencies in ms, status_errors counts answers
-- >= 400 (wrk's "Non-2xx or 3xx responses").

local token = os.getenv("TOKEN")
if token == nil or token == "" then
  error("set TOKEN to an access token from POST /login")
end

wrk.method = "GET"
wrk.path = "/protected"
wrk.headers["Authorization"] = "Bearer " .. token

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d status_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
