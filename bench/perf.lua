-- wrk script of bench/perf.py (`make bench`): the request comes from the environment, the
-- result is one line of JSON with wrk's exact latency percentiles (wrk's --latency table rounds
-- them to two digits).
--   PERF_METHOD     GET, POST, ...
--   PERF_HEADERS    "name: value" lines
--   PERF_BODY_FILE  file whose bytes are the request body (unset: no body)
--   PERF_VARY       placeholder in the path and the body that each request replaces with its
--                   own 8-digit number (thread number, then a counter), so no two are the same

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

-- Splits `s` around the first `vary` (plain find): prefix, suffix; nil when it is absent.
local function split(s, vary)
    if not s or not vary or vary == "" then
        return nil
    end
    local at = s:find(vary, 1, true)
    if not at then
        return nil
    end
    return s:sub(1, at - 1), s:sub(at + #vary)
end

local vary = os.getenv("PERF_VARY")
local path_pre, path_post = split(wrk.path, vary)
local body_pre, body_post = split(wrk.body, vary)
local threads = 0
local counter = 0

function setup(thread)
    threads = threads + 1
    thread:set("thread_id", threads)
end

function init(args)
    counter = (tonumber(wrk.thread:get("thread_id")) or 0) * 10000000
end

function request()
    if not path_pre and not body_pre then
        return wrk.request()
    end
    counter = counter + 1
    local n = string.format("%08d", counter % 100000000)
    local path = path_pre and (path_pre .. n .. path_post) or wrk.path
    local body = body_pre and (body_pre .. n .. body_post) or wrk.body
    return wrk.format(nil, path, nil, body)
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
