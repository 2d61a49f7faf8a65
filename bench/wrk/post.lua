-- One fixed POST, from the environment: BENCH_PATH, BENCH_BODY, BENCH_CONTENT_TYPE,
-- BENCH_AUTHORIZATION (optional), BENCH_EXPECT (a substring every answer must hold),
-- BENCH_DELAY_MS (optional pause between a connection's requests, to offer a fixed load),
-- BENCH_BODY_VARIANTS (optional N: the body's "{n}" becomes 0…N-1 in turn, e.g. N users logging in).
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
local expect = os.getenv("BENCH_EXPECT")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local headers = { ["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json" }
if os.getenv("BENCH_AUTHORIZATION") then headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION") end

local threads = {}
function setup(thread) table.insert(threads, thread) end

local variants = tonumber(os.getenv("BENCH_BODY_VARIANTS") or "1")
local requests = {}
for n = 0, variants - 1 do
  local text = body:gsub("{n}", tostring(n))
  table.insert(requests, wrk.format("POST", path, headers, text))
end
local next_request = 0
unexpected = 0

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

if delay_ms > 0 then
  function delay() return delay_ms end
end

function response(status, _, text)
  if expect and (status ~= 200 or not string.find(text, expect, 1, true)) then unexpected = unexpected + 1 end
end

function done()
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("unexpected") or 0) end
  io.write(string.format("unexpected answers: %d\n", total))
end
