-- One fixed POST, from the environment: BENCH_PATH, BENCH_BODY, BENCH_CONTENT_TYPE,
-- BENCH_AUTHORIZATION (optional), BENCH_EXPECT (a substring every answer must hold),
-- BENCH_DELAY_MS (optional pause between a connection's requests, to offer a fixed load).
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
local expect = os.getenv("BENCH_EXPECT")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local headers = { ["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json" }
if os.getenv("BENCH_AUTHORIZATION") then headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION") end

local threads = {}
function setup(thread) table.insert(threads, thread) end

local the_request = wrk.format("POST", path, headers, body)
unexpected = 0

function request() return the_request end

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
