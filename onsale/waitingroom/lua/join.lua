-- Join the queue: one place per account, numbered first-come-first-served
-- after the on-sale starts, unordered (value 0) in the pre-queue before it.
-- KEYS[1] cfg   KEYS[2] q   KEYS[3] the user's place bucket
-- KEYS[4] issue log (zset: first number issued in a second -> that second)
-- KEYS[5] the client address's join counter for this event
-- ARGV[1] user id   ARGV[2] now in ms, or '' for the Redis clock
-- ARGV[3] joins allowed per address per window, or '' not to count this call
--         (the retry of a call already counted)   ARGV[4] window in ms
-- Returns {1, number (0 = in the undrawn pre-queue), newly joined 1|0}
--      or {-7, ms until the window ends} over the address's join limit,
--         {-9} no live config, {-8} event not published (fans see no such
--         event), {-2} closed, {-3, prequeue opens ms} not open yet,
--         {-4} the pre-queue must be drawn first (call draw, then join again)
-- The address's limit is counted here, in the same round trip as the join:
-- every attempt counts, refused or not.
if ARGV[3] ~= '' then
  local allowed, _, ttl = fixed_window_hit(KEYS[5], ARGV[3], ARGV[4])
  if not allowed then return {-7, ttl} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-9} end
local now = now_ms(ARGV[2])
local c = redis.call('HMGET', KEYS[1], 'state', 'ev', 'pq_at', 'onsale')
local state, ev = c[1], c[2]
local pq_at, onsale = tonumber(c[3]), tonumber(c[4])
local drawn = redis.call('HGET', KEYS[2], 'drawn') == '1'

if ev == 'draft' then return {-8} end
if ev == 'cancelled' or state == 'closed' then return {-2} end
local placement = placement_of(state, drawn, now, onsale, pq_at)

local existing = redis.call('HGET', KEYS[3], ARGV[1])
if placement == 'scheduled' and not existing then return {-3, pq_at} end
if placement == 'open' and not drawn then
  if (tonumber(redis.call('HGET', KEYS[2], 'pq')) or 0) > 0 then return {-4} end
  -- Nobody pre-queued: there is nothing to draw, numbering starts now.
  redis.call('HSET', KEYS[2], 'drawn', 1, 'drawn_n', 0, 'drawn_at', now)
end
if existing then return {1, tonumber(existing), 0} end
if placement == 'open' then
  return {1, number_issue(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], now), 1}
end
redis.call('HSET', KEYS[3], ARGV[1], 0)
redis.call('HINCRBY', KEYS[2], 'pq', 1)
return {1, 0, 1}
