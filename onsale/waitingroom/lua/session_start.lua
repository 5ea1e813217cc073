-- Start an admitted fan's shopping session (the claim), atomically with the
-- slot accounting, so the number of admitted-unfinished sessions never exceeds
-- max_active.
-- KEYS[1] cfg  KEYS[2] q  KEYS[3] unclaimed  KEYS[4] active  KEYS[5] sess
-- KEYS[6] sid  KEYS[7] the fan's place bucket  KEYS[8] issue log (join.lua)
-- KEYS[9] lapsed
-- ARGV[1] user id  ARGV[2] a new session id  ARGV[3] now ms or ''
-- ARGV[4] grace ms (see claims_lapse)
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
claims_lapse(KEYS[3], KEYS[9], KEYS[2], now, tonumber(ARGV[4]))

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
  -- A lapsed turn is taken back only on purpose (reclaim.lua), never by a
  -- page that happens to poll.
  if not redis.call('ZSCORE', KEYS[3], number) then return {-3} end
  -- The reserved slot becomes the session: the count does not change.
  redis.call('ZREM', KEYS[3], number)
  local issued_at = redis.call('ZREVRANGEBYSCORE', KEYS[8], number, '-inf', 'LIMIT', 0, 1)[1]
  if issued_at then waited = math.max(0, now - tonumber(issued_at) * 1000) end
else
  number = 0
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local in_use = redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
  if in_use >= tonumber(redis.call('HGET', KEYS[1], 'max_active')) then return {-5} end
end

local session_end = session_open(KEYS[1], KEYS[4], KEYS[5], KEYS[6], user, ARGV[2],
  number, now)
return {1, ARGV[2], now, session_end, number, waited}
