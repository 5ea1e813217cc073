-- Put seats back on sale after their sale was released in MySQL (an order
-- failed, expired, was cancelled or refunded), and set general-admission sold
-- counts to MySQL's. Added for checkout (orders compensation and cancel).
-- ARGV[2] n, ARGV[3 .. 2+n] seat indexes, ARGV[3+n] m, then m pairs
-- (code, total sold in MySQL after the release committed).
-- Freed seats are published like released holds, so seat maps update live;
-- a seat its fan still holds (a declined card keeps the hold for another
-- try) stays taken and is not announced.
-- Returns {0, version}.
local now = now_ms()
purge_expired(now)
local n = tonumber(ARGV[2])
for i = 1, n do
  local idx = tonumber(ARGV[2 + i])
  if redis.call('GETBIT', K_SOLD, idx) == 1 then
    redis.call('SETBIT', K_SOLD, idx, 0)
    if redis.call('GETBIT', K_HELD, idx) == 0 then
      table.insert(changes.freed, idx)
    end
  end
end
local base = 3 + n
local m = tonumber(ARGV[base])
for j = 1, m do
  local code = ARGV[base + 2 * j - 1]
  redis.call('HSET', K_GA, 'sold:' .. code, ARGV[base + 2 * j])
  touch_ga(code)
end
return {0, announce()}
