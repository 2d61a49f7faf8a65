-- A plain GET of the URL given to wrk (the nginx ceiling); every answer must be 200.
local threads = {}
function setup(thread) table.insert(threads, thread) end
unexpected = 0
function response(status) if status ~= 200 then unexpected = unexpected + 1 end end
function done()
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("unexpected") or 0) end
  io.write(string.format("unexpected answers: %d\n", total))
end
