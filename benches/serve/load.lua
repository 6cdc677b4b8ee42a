-- wrk script for benches/serve/run.sh: each request takes a random path from
-- a file (one path a line: search queries, product pages, or one plan), and
-- every response that is not 2xx is counted (wrk itself counts only >= 400
-- with a body it parsed, and lets 3xx pass).
--
-- usage: wrk ... -s load.lua URL -- PATHS_FILE LABEL
-- prints one line: RESULT label=... requests=... rps=... p50_ms=... p99_ms=...

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      table.insert(paths, line)
    end
  end
  assert(#paths > 0, "no paths in " .. args[1])
  label = args[2] or args[1]
  math.randomseed(1000 + id)
  non2xx = 0
  last_bad = 0
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    last_bad = status
  end
end

function done(summary, latency, requests)
  local bad, last, label = 0, 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    if t:get("last_bad") ~= 0 then
      last = t:get("last_bad")
    end
    label = t:get("label")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT label=%s requests=%d rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f "
      .. "connect=%d read=%d write=%d timeout=%d non2xx=%d last_non2xx=%d bytes=%d\n",
    label, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, bad, last, summary.bytes))
end
