-- Fixed-window counter: counts one hit and reports whether it is allowed.
-- KEYS[1] counter key
-- ARGV[1] limit (hits allowed per window)
-- ARGV[2] window length in milliseconds
-- Returns {allowed (1|0), hits in this window, milliseconds until the window ends}
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A key without expiry (left over from a crash between INCR and PEXPIRE
  -- cannot happen inside a script, but a manual SET can): repair it.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if hits > tonumber(ARGV[1]) then
  return {0, hits, ttl}
end
return {1, hits, ttl}
