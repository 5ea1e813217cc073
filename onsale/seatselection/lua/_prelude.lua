-- Shared by every seat-state script (scripts.py puts it in front of each one).
-- KEYS: the fixed list from keys.seat_state_keys(); ARGV[1]: the pub/sub channel.
-- Hold ids and expiries stay strings: Lua numbers are doubles and cjson and
-- tostring() print them with 14 significant digits, which would corrupt them.
local K_GEN, K_SEQ, K_SOLD, K_HELD, K_BLOCKED, K_BLOCKVER = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local K_EXP, K_HOLDS, K_SESSIONS, K_FANS, K_GA, K_VERSION, K_TMP = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]
local CHANNEL = ARGV[1]
-- Expired holds removed per call: bounds the time one script blocks Redis. A
-- backlog is cleared by the next calls and the sweep task.
local PURGE_BATCH = 500

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The state was built from MySQL for this layout id ("<layout version>:
-- <layout token>"; the generation is "<layout id>:<build token>"). Missing, or
-- built for another map: the caller rebuilds.
local function state_matches(layout_id)
  local gen = redis.call('GET', K_GEN)
  local prefix = layout_id .. ':'
  return gen ~= false and string.sub(gen, 1, #prefix) == prefix
end

local function int_string(n)
  return string.format('%.0f', n)
end

-- What this call changed, published once at the end as one message.
local changes = {held = {}, freed = {}, sold = {}, ga = {}, refresh = false, reload = false}

local function touch_ga(code)
  changes.ga[code] = true
end

local function hold_size(hold)
  local n = #hold.seats
  for _, qty in pairs(hold.ga) do n = n + qty end
  return n
end

-- The hold `hold_id` if it is active and `user_id`'s: its JSON and the
-- decoded table; nil when it never existed, is gone, or is another user's.
local function user_hold(hold_id, user_id)
  local raw = redis.call('HGET', K_HOLDS, hold_id)
  if not raw then return nil end
  local hold = cjson.decode(raw)
  if hold.u ~= user_id then return nil end
  return raw, hold
end

-- Take one hold out of every structure and give its seats and places back.
-- Seats it held are reported as freed, except those marked sold: a hold
-- stays while its order's payment runs (and after a decline), so its seats
-- may be both held and sold, and a sold seat's bit stays in `sold`.
local function hold_remove(hold_id, hold, report_freed)
  for _, idx in ipairs(hold.seats) do
    redis.call('SETBIT', K_HELD, idx, 0)
    if report_freed and redis.call('GETBIT', K_SOLD, idx) == 0 then
      table.insert(changes.freed, idx)
    end
  end
  for code, qty in pairs(hold.ga) do
    redis.call('HINCRBY', K_GA, 'held:' .. code, -qty)
    touch_ga(code)
  end
  local n = hold_size(hold)
  if n > 0 then
    if redis.call('HINCRBY', K_FANS, hold.u, -n) <= 0 then
      redis.call('HDEL', K_FANS, hold.u)
    end
  end
  if redis.call('HGET', K_SESSIONS, hold.s) == hold_id then
    redis.call('HDEL', K_SESSIONS, hold.s)
  end
  redis.call('HDEL', K_HOLDS, hold_id)
  redis.call('ZREM', K_EXP, hold_id)
end

-- Release holds whose expiry has passed. Every script that reads or changes
-- availability calls this first, so an expired hold never blocks a seat for
-- longer than until the next call (or the sweep task).
local function purge_expired(now)
  local expired = redis.call('ZRANGEBYSCORE', K_EXP, '-inf', now, 'LIMIT', 0, PURGE_BATCH)
  for _, hold_id in ipairs(expired) do
    local raw = redis.call('HGET', K_HOLDS, hold_id)
    if raw then
      hold_remove(hold_id, cjson.decode(raw), true)
    else
      redis.call('ZREM', K_EXP, hold_id)
    end
  end
  return #expired
end

local function ga_available(code)
  local values = redis.call('HMGET', K_GA, 'cap:' .. code, 'sold:' .. code, 'held:' .. code)
  return (tonumber(values[1]) or 0) - (tonumber(values[2]) or 0) - (tonumber(values[3]) or 0)
end

-- Publish what changed (if anything) under a new availability version, and
-- return the current version. A subscriber that sees a version gap reloads
-- the snapshot.
local function announce()
  local has_ga = next(changes.ga) ~= nil
  if #changes.held == 0 and #changes.freed == 0 and #changes.sold == 0
      and not has_ga and not changes.refresh and not changes.reload then
    return tonumber(redis.call('GET', K_VERSION) or '0')
  end
  local version = redis.call('INCR', K_VERSION)
  local message = {v = version, g = redis.call('GET', K_GEN) or ''}
  if #changes.held > 0 then message.held = changes.held end
  if #changes.freed > 0 then message.freed = changes.freed end
  if #changes.sold > 0 then message.sold = changes.sold end
  if has_ga then
    local ga = {}
    for code, _ in pairs(changes.ga) do ga[code] = ga_available(code) end
    message.ga = ga
  end
  if changes.refresh then message.refresh = true end
  if changes.reload then message.reload = true end
  redis.call('PUBLISH', CHANNEL, cjson.encode(message))
  return version
end
