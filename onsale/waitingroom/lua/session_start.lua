-- Start an admitted fan's shopping session (the claim), atomically with the
-- slot accounting, so the number of admitted-unfinished sessions never exceeds
-- max_active.
-- KEYS[1] cfg  KEYS[2] q  KEYS[3] unclaimed  KEYS[4] active  KEYS[5] sess
-- KEYS[6] sid  KEYS[7] the fan's place bucket  KEYS[8] issue log (join.lua)
-- ARGV[1] user id  ARGV[2] a new session id  ARGV[3] now ms or ''
-- A fan with a place claims the slot the bucket reserved for their number; a
-- fan without one (a direct admission) takes a free slot if there is one.
-- sess records are "session id|issued ms|end ms|a (active) or d (done)|number"
-- (number 0 for a direct admission).
-- Returns {1, sid, issued ms, end ms, number, waited ms} started (number 0 and
-- waited -1 for a direct admission), {2, sid, issued, end} already active, {-2} not admitted yet, {-3} claim window or session lapsed,
-- {-4} session already ended, {-5} room full, {-9} no live config.
if redis.call('EXISTS', KEYS[1]) == 0 then return {-9} end
local now = now_ms(ARGV[3])
local user = ARGV[1]

local record = redis.call('HGET', KEYS[5], user)
local sid, issued_ms, end_ms, status, for_number
if record then
  sid, issued_ms, end_ms, status, for_number =
    string.match(record, '^([^|]+)|(%d+)|(%d+)|(%a)|(%d+)$')
  issued_ms, end_ms, for_number = tonumber(issued_ms), tonumber(end_ms), tonumber(for_number)
  if status == 'a' and end_ms > now and redis.call('ZSCORE', KEYS[4], sid) then
    return {2, sid, issued_ms, end_ms}
  end
end

local number = tonumber(redis.call('HGET', KEYS[7], user))
local waited = -1
if number then
  local serving = tonumber(redis.call('HGET', KEYS[2], 'serving')) or 0
  if number == 0 or number > serving then return {-2} end
  if record and for_number == number then
    -- This place already had its session: one session per place.
    if status == 'd' then return {-4} end
    return {-3}
  end
  local deadline = tonumber(redis.call('ZSCORE', KEYS[3], number))
  if not deadline or deadline <= now then
    redis.call('ZREM', KEYS[3], number)
    return {-3}
  end
  -- The reserved slot becomes the session: the count does not change.
  redis.call('ZREM', KEYS[3], number)
  local issued_at = redis.call('ZREVRANGEBYSCORE', KEYS[8], number, '-inf', 'LIMIT', 0, 1)[1]
  if issued_at then waited = math.max(0, now - tonumber(issued_at) * 1000) end
else
  number = 0
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local in_use = redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
  if in_use >= tonumber(redis.call('HGET', KEYS[1], 'max_active')) then return {-5} end
end

local session_end = now + tonumber(redis.call('HGET', KEYS[1], 'session_s')) * 1000
redis.call('ZADD', KEYS[4], session_end, ARGV[2])
redis.call('HSET', KEYS[5], user,
  ARGV[2] .. '|' .. now .. '|' .. session_end .. '|a|' .. number)
redis.call('HSET', KEYS[6], ARGV[2], user)
return {1, ARGV[2], now, session_end, number, waited}
