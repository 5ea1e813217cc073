-- Rejoin at the back: a fan whose turn is over (it lapsed unclaimed, within
-- the grace period or after it, or its session ended or ran out) gives up
-- that place for a new number behind everyone already waiting. The account
-- still holds one place: the old number is gone (it can no longer be taken
-- back) the moment the new one is issued.
-- KEYS[1] cfg  KEYS[2] q  KEYS[3] the fan's place bucket  KEYS[4] issue log
-- KEYS[5] the client address's join counter  KEYS[6] unclaimed  KEYS[7] active
-- KEYS[8] sess  KEYS[9] lapsed
-- ARGV[1] user id  ARGV[2] now ms or ''  ARGV[3] joins allowed per address per
-- window, or '' not to count this call  ARGV[4] window ms
-- ARGV[5] grace ms (see claims_lapse)  ARGV[6] the number given up, or ''
-- Returns {1, new number} rejoined, {2, number} already rejoined (the fan's
--   place is newer than ARGV[6]: a retried request, a second click),
--   {-1} not in the queue, {-2} closed, {-3} the turn has not come (the fan
--   keeps their place), {-4} the turn runs (admitted within the claim window,
--   or the session runs), {-6} the fan's place is older than ARGV[6] (no such
--   place), {-7, ms} over the address's join limit, {-8} event not published,
--   {-9} no live config.
-- The address's limit counts every attempt, as join.lua does.
if ARGV[3] ~= '' then
  local allowed, _, ttl = fixed_window_hit(KEYS[5], ARGV[3], ARGV[4])
  if not allowed then return {-7, ttl} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-9} end
local now = now_ms(ARGV[2])
local user = ARGV[1]
local c = redis.call('HMGET', KEYS[1], 'state', 'ev')
if c[2] == 'draft' then return {-8} end
if c[2] == 'cancelled' or c[1] == 'closed' then return {-2} end
claims_lapse(KEYS[6], KEYS[9], KEYS[2], now, tonumber(ARGV[5]))

local number = tonumber(redis.call('HGET', KEYS[3], user))
if not number then return {-1} end
if ARGV[6] ~= '' then
  local given_up = tonumber(ARGV[6])
  if number > given_up then return {2, number} end
  if number < given_up then return {-6} end
end
local serving = tonumber(redis.call('HGET', KEYS[2], 'serving')) or 0
if number == 0 or number > serving then return {-3} end
if redis.call('ZSCORE', KEYS[6], number) then return {-4} end
local record = session_record(KEYS[8], user)
if record and record.number == number and record.status == 'a'
    and record.end_ms > now and redis.call('ZSCORE', KEYS[7], record.sid) then
  return {-4}
end

redis.call('ZREM', KEYS[9], number)
redis.call('HINCRBY', KEYS[2], 'rejoined_n', 1)
return {1, number_issue(KEYS[1], KEYS[2], KEYS[3], KEYS[4], user, now)}
