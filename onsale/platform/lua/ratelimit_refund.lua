-- Gives one hit back to a fixed-window counter (a request that turned out
-- not to count, such as a sign-in with the right password).
-- KEYS[1] counter key
-- Returns the hits left in this window.
-- A window that has ended is not restarted, and its lifetime is kept: only a
-- live counter above zero goes down.
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits > 0 and redis.call('PTTL', KEYS[1]) > 0 then
  return redis.call('DECR', KEYS[1])
end
return hits
