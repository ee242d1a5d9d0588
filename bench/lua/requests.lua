-- wrk script: send the requests listed in a file, in turn, each thread its own share of them, so
-- that each can carry its own session cookie and CSRF token (one patient's draft each).
--
--   wrk -t THREADS ... -s bench/lua/requests.lua http://127.0.0.1:PORT -- FILE THREADS
--
-- FILE holds one request a line: METHOD <tab> PATH <tab> COOKIE <tab> BODY (COOKIE and BODY may
-- be empty; a BODY is sent form-encoded). At the end one line "BENCH {json}" gives the counts,
-- the latency percentiles (microseconds) and how many requests repeated an earlier line.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, thread_count = args[1], tonumber(args[2])
  lines = {}
  local index = 0
  for line in io.lines(file) do
    if index % thread_count == id then
      local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if body ~= "" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      else
        body = nil
      end
      table.insert(lines, wrk.format(method, path, headers, body))
    end
    index = index + 1
  end
  size = #lines
  sent = 0
end

function request()
  sent = sent + 1
  return lines[(sent - 1) % size + 1]
end

function done(summary, latency, requests)
  local repeated = 0
  for _, thread in ipairs(threads) do
    repeated = repeated + math.max(0, thread:get("sent") - thread:get("size"))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non_2xx_3xx": %d, "socket_errors": %d, "timeouts": %d, "repeated": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.status, errors.connect + errors.read + errors.write,
    errors.timeout, repeated))
end
