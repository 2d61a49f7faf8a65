-- POST /v1/token/verify with tokens read from BENCH_TOKENS (one per line).
-- BENCH_PATH=/oauth2/introspect with BENCH_FORM=1 and BENCH_AUTHORIZATION (a client's Basic
-- credentials) sends the same tokens to RFC 7662 introspection instead, form-encoded.
-- BENCH_MODE=distinct sends each token once, in order (running out is counted, and fails the run);
-- BENCH_MODE=mix sends a random one of the first BENCH_MIX tokens (default 1000).
-- BENCH_OFFSET skips that many lines first, so consecutive runs use disjoint tokens.
-- BENCH_LIMIT (distinct mode) reads at most that many tokens: as many as the run can send. wrk
-- shares the machine's cores with the server, and its per-request cost grows with the strings it
-- holds (LuaJIT's collector walks them all), so it should hold no more than it needs.
-- Every request is built in init, before the clock starts, as post.lua does: building a
-- distinct body and request per send cost wrk about 10 us of the cores the server needs, and
-- left garbage for its collector. (wrk's CPU, init included, is still counted per request.)
-- BENCH_DELAY_MS pauses between a connection's requests, to offer a fixed load.
-- Every answer must say "active":true; others are counted as unexpected.
local mode = os.getenv("BENCH_MODE") or "distinct"
local mix = tonumber(os.getenv("BENCH_MIX") or "1000")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local path = os.getenv("BENCH_PATH") or "/v1/token/verify"
local form = os.getenv("BENCH_FORM") == "1"
local headers = { ["Content-Type"] = form and "application/x-www-form-urlencoded" or "application/json" }
if os.getenv("BENCH_AUTHORIZATION") then headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION") end

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- One ready request per token read.
local requests = {}
local next_index = 1
unexpected = 0
repeats = 0

-- The request line and headers every request shares, up to its body's length (wrk has set Host
-- by the time init runs). Joining this to each body is cheaper than wrk.format per token.
local function shared_head()
  local lines = { "POST " .. path .. " HTTP/1.1", "Host: " .. wrk.headers["Host"] }
  for name, value in pairs(headers) do table.insert(lines, name .. ": " .. value) end
  table.insert(lines, "Content-Length: ")
  return table.concat(lines, "\r\n")
end

function init(args)
  local head = shared_head()
  local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
  local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
  local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
  if mode == "mix" then limit = mix end
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if line_number >= offset then
      local position = line_number - offset
      if limit > 0 and position >= limit then break end
      if position % thread_count == (id or 0) then
        -- A compact JWS is base64url and dots: nothing to escape in either encoding.
        local body = form and ("token=" .. line) or ('{"token":"' .. line .. '"}')
        table.insert(requests, head .. #body .. "\r\n\r\n" .. body)
      end
    end
    line_number = line_number + 1
  end
  math.randomseed(os.time() + (id or 0))
end

function request()
  if mode == "mix" then return requests[math.random(#requests)] end
  local request = requests[next_index]
  next_index = next_index + 1
  if next_index > #requests then next_index = 1; repeats = repeats + 1 end
  return request
end

if delay_ms > 0 then
  function delay() return delay_ms end
end

function response(status, _, text)
  if status ~= 200 or not string.find(text, '"active":true', 1, true) then unexpected = unexpected + 1 end
end

function done()
  local total, wrapped = 0, 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("unexpected") or 0)
    wrapped = wrapped + (thread:get("repeats") or 0)
  end
  io.write(string.format("unexpected answers: %d\n", total))
  io.write(string.format("token list wrapped: %d\n", wrapped))
end
