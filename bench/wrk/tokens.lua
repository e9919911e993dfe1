-- wrk script: GET /api/items/42 with "Authorization: Bearer <token>", cycling through a file of
-- tokens (one per line) from a given offset, so successive runs continue where the last stopped
-- (entra-gate keeps verified tokens in a cache: a run must not replay tokens a warm-up just sent).
--   wrk -t1 -c16 -d4s --latency -s tokens.lua http://127.0.0.1:PORT -- tokens.txt OFFSET
-- Requests are formatted once, up front, so the load generator spends nothing per request.
-- At the end one line "WRK_RESULT {json}" gives the counts, latency percentiles (microseconds)
-- and how many requests were sent (the next run's offset).

local requests = {}
local n = 0
local offset = 0
local threads = {}
counter = 0 -- global: read from the main state through thread:get in done()

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local path = args[1]
  for token in io.lines(path) do
    if #token > 0 then
      n = n + 1
      requests[n] = wrk.format("GET", "/api/items/42", { ["Authorization"] = "Bearer " .. token })
    end
  end
  if n == 0 then
    error("no tokens in " .. tostring(path))
  end
  offset = (tonumber(args[2]) or 0) % n
end

function request()
  local r = requests[(offset + counter) % n + 1]
  counter = counter + 1
  return r
end

function done(summary, latency, _)
  local sent = 0
  for _, t in ipairs(threads) do
    sent = sent + (t:get("counter") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"sent":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, sent,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
