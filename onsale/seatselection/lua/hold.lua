-- Hold all the requested seats and general-admission places, or none.
-- ARGV[2] the layout id the indexes refer to, ARGV[3] user id,
-- ARGV[4] session id, ARGV[5] session end (ms), ARGV[6] hold lifetime (ms),
-- ARGV[7] max seats per fan, ARGV[8] n = number of seat indexes,
-- ARGV[9 .. 8+n] the indexes, ARGV[9+n] m = number of general-admission
-- lines, then m pairs (code, quantity).
-- The session's current hold (if any) is replaced by the new one atomically:
-- if the new set cannot be taken, the old hold stays as it was.
-- Returns
--   {0, hold id, expiry ms, version, replaced hold id or ''}  held
--   {1}                          state missing or of another layout: rebuild
--                                from MySQL, then retry
--   {2, index, ...}              these seats are not available (nothing held)
--   {3, code, available}         not enough places left in this GA category
--   {4, held elsewhere, max}     over the per-fan limit
--   {5}                          the session has ended
if not state_matches(ARGV[2]) then
  return {1}
end
local now = now_ms()
purge_expired(now)

local user, session = ARGV[3], ARGV[4]
local session_end = tonumber(ARGV[5])
local expires = math.min(now + tonumber(ARGV[6]), session_end)
if expires <= now then
  announce()
  return {5}
end
local max_per_fan = tonumber(ARGV[7])

local old_id = redis.call('HGET', K_SESSIONS, session)
local old = nil
if old_id then
  local raw = redis.call('HGET', K_HOLDS, old_id)
  if raw then
    old = cjson.decode(raw)
    if old.u ~= user then old = nil end
  end
  if not old then old_id = nil end
end
local mine = {}
if old then
  for _, idx in ipairs(old.seats) do mine[idx] = true end
end

local n = tonumber(ARGV[8])
local seats, wanted, taken = {}, {}, {}
for i = 1, n do
  local idx = tonumber(ARGV[8 + i])
  seats[i] = idx
  wanted[idx] = true
  if redis.call('GETBIT', K_SOLD, idx) == 1
      or redis.call('GETBIT', K_BLOCKED, idx) == 1
      or (redis.call('GETBIT', K_HELD, idx) == 1 and not mine[idx]) then
    table.insert(taken, idx)
  end
end
if #taken > 0 then
  announce()
  return {2, unpack(taken)}
end

local base = 9 + n
local m = tonumber(ARGV[base])
local ga, ga_total = {}, 0
for j = 1, m do
  local code = ARGV[base + 2 * j - 1]
  local qty = tonumber(ARGV[base + 2 * j])
  local available = ga_available(code)
  if old and old.ga[code] then available = available + old.ga[code] end
  if redis.call('HEXISTS', K_GA, 'cap:' .. code) == 0 or qty > available then
    announce()
    return {3, code, math.max(available, 0)}
  end
  ga[code] = qty
  ga_total = ga_total + qty
end

local already = tonumber(redis.call('HGET', K_FANS, user) or '0')
if old then already = already - hold_size(old) end
if already + n + ga_total > max_per_fan then
  announce()
  return {4, already, max_per_fan}
end

if old then
  hold_remove(old_id, old, false)
  for _, idx in ipairs(old.seats) do
    if not wanted[idx] and redis.call('GETBIT', K_SOLD, idx) == 0 then
      table.insert(changes.freed, idx)
    end
  end
end
for _, idx in ipairs(seats) do
  redis.call('SETBIT', K_HELD, idx, 1)
  if not mine[idx] then table.insert(changes.held, idx) end
end
for code, qty in pairs(ga) do
  redis.call('HINCRBY', K_GA, 'held:' .. code, qty)
  touch_ga(code)
end
local hold_id = int_string(redis.call('INCR', K_SEQ))
local expires_text = int_string(expires)
redis.call('HSET', K_HOLDS, hold_id,
  cjson.encode({u = user, s = session, seats = seats, ga = ga, e = expires_text, l = ARGV[2]}))
redis.call('ZADD', K_EXP, expires, hold_id)
redis.call('HSET', K_SESSIONS, session, hold_id)
redis.call('HINCRBY', K_FANS, user, n + ga_total)
local version = announce()
return {0, hold_id, expires_text, version, old_id or ''}
