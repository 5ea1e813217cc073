-- wrk script: authenticated joins, each request as a different fan.
-- wrk -t2 -c32 -d10s -s bench/wrk/waitingroom_join.lua http://127.0.0.1:8765 \
--     -- <credentials file> <path> <wrk threads> <first line>
-- The credentials file has one fan per line: "<session id> <csrf token>"
-- (written by bench/scenarios/waitingroom.py). Thread k takes lines first+k,
-- first+k+T, first+k+2T, ... so no two requests reuse a fan until the list is
-- exhausted (a later run starts where the previous one stopped).
local counter = 0
local threads_started = 0

function setup(thread)
  thread:set("id", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  credentials = {}
  for line in io.lines(args[1]) do
    local session, csrf = line:match("^(%S+) (%S+)$")
    credentials[#credentials + 1] = {
      ["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf,
      ["X-CSRFToken"] = csrf,
      ["Content-Type"] = "application/json",
      ["Content-Length"] = "0",
    }
  end
  path = args[2]
  stride = tonumber(args[3])
  counter = tonumber(args[4] or "0") + id
end

function request()
  local headers = credentials[(counter % #credentials) + 1]
  counter = counter + stride
  return wrk.format("POST", path, headers, "")
end
