-- A fixed-window counter, for scripts that count a hit (ratelimit.lua, the
-- waiting room's join): counts one hit on `key` and says whether it is within
-- `limit` per window of `window_ms`.
-- Returns allowed (boolean), hits in this window, ms until the window ends.
local function fixed_window_hit(key, limit, window_ms)
  local hits = redis.call('INCR', key)
  local ttl = -1
  if hits > 1 then ttl = redis.call('PTTL', key) end
  if ttl < 0 then
    -- The window's first hit; or a key without expiry (a manual SET; a crash
    -- between INCR and PEXPIRE cannot happen inside a script): (re)start it.
    redis.call('PEXPIRE', key, window_ms)
    ttl = tonumber(window_ms)
  end
  return hits <= tonumber(limit), hits, ttl
end
