-- End a shopping session early (checkout done, released, or the fan left):
-- frees its max_active slot at once. Idempotent.
-- KEYS[1] active  KEYS[2] sess  KEYS[3] sid
-- ARGV[1] session id
-- Returns 1 if the session was active, else 0.
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
local user = redis.call('HGET', KEYS[3], ARGV[1])
if user then
  local record = redis.call('HGET', KEYS[2], user)
  if record then
    local sid, issued_ms, end_ms, status, number =
      string.match(record, '^([^|]+)|(%d+)|(%d+)|(%a)|(%d+)$')
    if sid == ARGV[1] and status == 'a' then
      redis.call('HSET', KEYS[2], user,
        sid .. '|' .. issued_ms .. '|' .. end_ms .. '|d|' .. number)
    end
  end
end
return removed
