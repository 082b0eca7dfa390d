-- wrk script: POST /login with the demo user's JSON credentials, counting answers by status.
--
--     wrk -t1 -c16 -d10s --timeout 30s -s benches/wrk/login.lua http://127.0.0.1:5000
--
-- LOGIN_USER (default user1) and LOGIN_PASSWORD (default password1) choose the credentials; a wrong
-- password makes every request a failed login (401, then 429 once the throttling limits are reached,
-- unless LOGIN_MAX_FAILURES_* are raised). Each answer costs one bcrypt check either way. done()
-- prints one "WRK key=value ..." line with the status mix (s200=, s401=, s429=, s503=, s_other=).

local user = os.getenv("LOGIN_USER") or "user1"
local password = os.getenv("LOGIN_PASSWORD") or "password1"

wrk.method = "POST"
wrk.path = "/login"
wrk.headers["Content-Type"] = "application/json"
-- The demo names and passwords need no JSON escaping.
wrk.body = string.format('{"username": "%s", "password": "%s"}', user, password)

-- Each wrk thread runs its own Lua state: count per thread, add up in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = { [200] = 0, [401] = 0, [429] = 0, [503] = 0 }
  local other = 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      if counts[status] ~= nil then
        counts[status] = counts[status] + n
      else
        other = other + n
      end
    end
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d status_errors=%d " ..
    "s200=%d s401=%d s429=%d s503=%d s_other=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status,
    counts[200], counts[401], counts[429], counts[503], other))
end
