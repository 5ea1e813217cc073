-- End a checkout's extension of a hold: the payment it was kept for failed
-- (declined, or never confirmed), so the hold goes back to its own expiry
-- (`o`, saved by read.lua when it extended the hold) and the fan may try
-- again until then, not longer. A hold whose own time has passed is
-- released now. A hold never extended keeps its expiry.
-- ARGV[2] user id, ARGV[3] hold id.
-- Returns {0, expiry ms} the hold lives until then, {1} no such active hold
-- for this user (expired, released, retired, another user's).
local now = now_ms()
purge_expired(now)
local hold_id = ARGV[3]
local _, hold = user_hold(hold_id, ARGV[2])
if not hold then
  announce()
  return {1}
end
if hold.o then
  local own = tonumber(hold.o)
  if own <= now then
    hold_remove(hold_id, hold, true)
    announce()
    return {1}
  end
  hold.e = hold.o
  hold.o = nil
  redis.call('HSET', K_HOLDS, hold_id, cjson.encode(hold))
  redis.call('ZADD', K_EXP, own, hold_id)
end
announce()
return {0, hold.e}
