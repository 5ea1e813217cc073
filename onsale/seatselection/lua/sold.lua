-- Mark seats and general-admission places sold after the sale committed in
-- MySQL, and retire the hold they were sold from. Idempotent; it runs even
-- while the state awaits a rebuild (setting a sold bit is always right).
-- ARGV[2] hold id or '', ARGV[3] n, ARGV[4 .. 3+n] seat indexes,
-- ARGV[4+n] m, then m pairs (code, total sold in MySQL after the commit).
-- GA totals merge by maximum: MySQL's count only grows, and two sales may
-- report in either order.
-- Returns {0, version}.
local now = now_ms()
purge_expired(now)
local n = tonumber(ARGV[3])
local sold = {}
for i = 1, n do
  local idx = tonumber(ARGV[3 + i])
  sold[idx] = true
  -- Only seats not marked yet are announced (the reconcile task re-sends all).
  if redis.call('SETBIT', K_SOLD, idx, 1) == 0 then
    table.insert(changes.sold, idx)
  end
end
local hold_id = ARGV[2]
if hold_id ~= '' then
  local raw = redis.call('HGET', K_HOLDS, hold_id)
  if raw then
    local hold = cjson.decode(raw)
    hold_remove(hold_id, hold, false)
    for _, idx in ipairs(hold.seats) do
      if not sold[idx] then table.insert(changes.freed, idx) end
    end
  end
end
local base = 4 + n
local m = tonumber(ARGV[base])
for j = 1, m do
  local code = ARGV[base + 2 * j - 1]
  local total = tonumber(ARGV[base + 2 * j])
  local field = 'sold:' .. code
  if total > tonumber(redis.call('HGET', K_GA, field) or '0') then
    redis.call('HSET', K_GA, field, total)
    touch_ga(code)
  end
end
return {0, announce()}
