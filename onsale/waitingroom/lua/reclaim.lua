-- Take back a turn that lapsed: the fan was admitted, did not claim within the
-- claim window, and comes back within the grace period. They keep their
-- number; the session starts now, in a free slot under max_active, as one
-- step with the slot accounting. A turn whose claim window is still open is
-- simply claimed (as session_start.lua would).
-- KEYS[1] cfg  KEYS[2] q  KEYS[3] unclaimed  KEYS[4] active  KEYS[5] sess
-- KEYS[6] sid  KEYS[7] the fan's place bucket  KEYS[8] lapsed
-- ARGV[1] user id  ARGV[2] a new session id  ARGV[3] now ms or ''
-- ARGV[4] grace ms (see claims_lapse)  ARGV[5] the number the fan means, or ''
-- Returns {1, sid, issued ms, end ms, number, taken back 1|0} started,
--   {2, sid, issued ms, end ms, number} this place's session already runs (a
--   retried request, a second click),
--   {-1} not in the queue, {-2} the turn has not come, {-3} the grace period is
--   over, {-4} this place's session already ran, {-5} no free slot, {-6} the
--   fan's place is no longer that number (they rejoined), {-7} the room is
--   closed or the event cancelled, {-8} admission is paused, {-9} no config.
if redis.call('EXISTS', KEYS[1]) == 0 then return {-9} end
local now = now_ms(ARGV[3])
local user = ARGV[1]
claims_lapse(KEYS[3], KEYS[8], KEYS[2], now, tonumber(ARGV[4]))
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)

local number = tonumber(redis.call('HGET', KEYS[7], user))
if not number then return {-1} end
if ARGV[5] ~= '' and tonumber(ARGV[5]) ~= number then return {-6} end
local serving = tonumber(redis.call('HGET', KEYS[2], 'serving')) or 0
if number == 0 or number > serving then return {-2} end

local record = session_record(KEYS[5], user)
if record and record.number == number then
  if record.status == 'a' and record.end_ms > now
      and redis.call('ZSCORE', KEYS[4], record.sid) then
    return {2, record.sid, record.issued_ms, record.end_ms, number}
  end
  return {-4}
end

if redis.call('ZSCORE', KEYS[3], number) then
  -- Still within the claim window: the reserved slot becomes the session.
  redis.call('ZREM', KEYS[3], number)
  local session_end = session_open(KEYS[1], KEYS[4], KEYS[5], KEYS[6], user,
    ARGV[2], number, now)
  return {1, ARGV[2], now, session_end, number, 0}
end

if not redis.call('ZSCORE', KEYS[8], number) then return {-3} end
local c = redis.call('HMGET', KEYS[1], 'state', 'ev', 'max_active')
if c[2] == 'cancelled' or c[1] == 'closed' then return {-7} end
if c[1] == 'paused' then return {-8} end
local in_use = redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
if in_use >= tonumber(c[3]) then return {-5} end

redis.call('ZREM', KEYS[8], number)
redis.call('HINCRBY', KEYS[2], 'reclaimed_n', 1)
local session_end = session_open(KEYS[1], KEYS[4], KEYS[5], KEYS[6], user,
  ARGV[2], number, now)
return {1, ARGV[2], now, session_end, number, 1}
