-- wrk request generator for tests/load/bench.py.
--
-- Environment:
--   BENCH_METHOD   HTTP method (POST, GET, PATCH)
--   BENCH_PATH     request path, query included
--   BENCH_TOKENS   file of bearer tokens, one a line; request g uses line g mod n
--   BENCH_BODY     request body; "{n}" is replaced by the request's number
--   BENCH_LINKS    (accept workload) file of invitation link tokens, one a line;
--                  request g accepts link floor(g / BENCH_USES) with user g, so
--                  every user is distinct and no link gets more than BENCH_USES
--   BENCH_USES     uses per link (the links' maxUses)
--   BENCH_OFFSET   first request number (distinct users across rounds)
--   BENCH_THREADS  wrk's thread count (request numbers interleave across threads)
--
-- At the end it prints one line `statuses {"200":n,...}` with the count of
-- every HTTP status, so that errors can be told apart (a 409 from a 503).

local thread_count = 0
local all_threads = {}

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  all_threads[#all_threads + 1] = thread
end

local function lines(path)
  local out = {}
  if path == nil or path == "" then return out end
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  path = os.getenv("BENCH_PATH") or "/"
  body = os.getenv("BENCH_BODY")
  if body == "" then body = nil end
  tokens = lines(os.getenv("BENCH_TOKENS"))
  links = lines(os.getenv("BENCH_LINKS"))
  uses = tonumber(os.getenv("BENCH_USES") or "1")
  offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
  threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  k = 0
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(all_threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  io.write("statuses {" .. table.concat(parts, ",") .. "}\n")
end

function request()
  local g = offset + k * threads + id
  k = k + 1
  local headers = { ["Content-Type"] = "application/json" }
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(g % #tokens) + 1]
  end
  local b = body
  if #links > 0 then
    b = '{"token":"' .. links[(math.floor(g / uses) % #links) + 1] .. '"}'
  elseif b ~= nil then
    b = string.gsub(b, "{n}", tostring(g))
  end
  return wrk.format(method, path, headers, b)
end
