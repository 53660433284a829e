-- Shared by the load scripts: counts statuses per thread and prints one JSON line at the end
-- (requests, duration, socket errors, latency percentiles, statuses), read by bench_intake.py.
bench_threads = {}

function setup(thread)
  thread:set("id", #bench_threads)
  table.insert(bench_threads, thread)
end

statuses = {}

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(bench_threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, table.concat(parts, ", ")))
end
