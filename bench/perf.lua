-- wrk script of bench/perf.py (`make bench`): the request comes from the environment, the
-- result is one line of JSON with wrk's exact latency percentiles (wrk's --latency table rounds
-- them to two digits).
--   PERF_METHOD     GET, POST, ...
--   PERF_HEADERS    "name: value" lines
--   PERF_BODY_FILE  file whose bytes are the request body (unset: no body)

wrk.method = os.getenv("PERF_METHOD") or "GET"
for line in (os.getenv("PERF_HEADERS") or ""):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
        wrk.headers[name] = value
    end
end
local body_file = os.getenv("PERF_BODY_FILE")
if body_file and body_file ~= "" then
    local f = assert(io.open(body_file, "rb"))
    wrk.body = f:read("*a")
    f:close()
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'PERF_RESULT {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "non2xx": %.0f, '
            .. '"connect_errors": %.0f, "read_errors": %.0f, "write_errors": %.0f, '
            .. '"timeouts": %.0f, "p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, '
            .. '"p999_us": %.0f, "max_us": %.0f, "mean_us": %.1f}\n',
        summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read,
        e.write, e.timeout, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
