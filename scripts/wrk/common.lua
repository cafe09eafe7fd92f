-- Shared by login.lua and refresh.lua (loaded with dofile from scripts/load).
-- Counts every response by status in the thread, and prints one machine-readable line at the end:
--   WRK_RESULT {"requests":…,"duration_s":…,"rps":…,"ok_rps":…,"latency_ms":{…},"statuses":{…},…}
-- Statuses are counted by wrk's response() hook, so nothing non-2xx goes unseen.
--
-- Latency: wrk's own latency statistics are corrected for coordinated omission before they are
-- printed or handed to done() (wrk.c calls stats_correct with the mean interval per connection),
-- so one slow response adds many synthetic slow samples. Those figures are kept as
-- "wrk_latency_ms_corrected"; "latency_ms" is the raw time from request() to response() of every
-- request, measured here with clock_gettime through LuaJIT's FFI.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } schild_timespec;
  int clock_gettime(int clock_id, schild_timespec *tp);
]]
local timespec = ffi.new("schild_timespec")
local CLOCK_MONOTONIC = 1
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e3 + tonumber(timespec.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

-- Per thread: statuses[code] = count, script-specific counters in `extra`, raw latencies (ms).
statuses = {}
extra = {}
latencies = {}
local started = nil

-- Call at the top of request() and of response(): one connection per thread means one request
-- in flight per thread, so a single start time per thread is enough.
function mark_start()
  started = now_ms()
end

function mark_end()
  if started then
    latencies[#latencies + 1] = now_ms() - started
    started = nil
  end
end

function count_status(status)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function count_extra(name)
  extra[name] = (extra[name] or 0) + 1
end

-- Wraps a per-script setup so every thread gets an index (1-based) and is remembered for done().
function common_setup(thread, per_thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  if per_thread then per_thread(thread, counter) end
  table.insert(threads, thread)
end

local function json_table(t)
  local parts = {}
  local keys = {}
  for k in pairs(t) do table.insert(keys, k) end
  table.sort(keys)
  for _, k in ipairs(keys) do
    table.insert(parts, string.format('"%s":%d', k, t[k]))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  local index = math.max(1, math.ceil(#sorted * p / 100))
  return sorted[index]
end

function done(summary, latency, requests)
  local total_statuses, total_extra, raw = {}, {}, {}
  for _, thread in ipairs(threads) do
    for _, v in ipairs(thread:get("latencies") or {}) do
      raw[#raw + 1] = v
    end
    for k, v in pairs(thread:get("statuses") or {}) do
      total_statuses[k] = (total_statuses[k] or 0) + v
    end
    for k, v in pairs(thread:get("extra") or {}) do
      total_extra[k] = (total_extra[k] or 0) + v
    end
  end
  table.sort(raw)
  local sum = 0
  for _, v in ipairs(raw) do sum = sum + v end
  local ok = total_statuses["200"] or 0
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.2f,"ok_rps":%.2f,' ..
    '"latency_ms":{"samples":%d,"mean":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f},' ..
    '"wrk_latency_ms_corrected":{"mean":%.3f,"stdev":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},' ..
    '"statuses":%s,"extra":%s,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"wrk_non_2xx_3xx":%d}\n',
    summary.requests, seconds, summary.requests / seconds, ok / seconds,
    #raw, #raw > 0 and sum / #raw or 0, percentile(raw, 50), percentile(raw, 90), percentile(raw, 99),
    percentile(raw, 99.9), raw[#raw] or 0,
    latency.mean / 1000, latency.stdev / 1000, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    json_table(total_statuses), json_table(total_extra),
    e.connect, e.read, e.write, e.timeout, e.status))
end
