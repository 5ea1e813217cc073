-- Read a user's active hold, by id or by session, and optionally extend it
-- (checkout keeps the seats while the payment runs).
-- ARGV[2] user id, ARGV[3] hold id or '', ARGV[4] session id or '',
-- ARGV[5] extend to at least now + this many ms (0: leave the expiry alone).
-- Returns {0, hold id, hold JSON, expiry ms} or {1} (no such active hold: never
-- existed, expired, released, sold, or another user's).
local now = now_ms()
purge_expired(now)
local hold_id = ARGV[3]
if hold_id == '' then
  hold_id = redis.call('HGET', K_SESSIONS, ARGV[4])
  if not hold_id then
    announce()
    return {1}
  end
end
local raw, hold = user_hold(hold_id, ARGV[2])
if not raw then
  announce()
  return {1}
end
local extend = tonumber(ARGV[5])
if extend > 0 and now + extend > tonumber(hold.e) then
  -- The hold's own expiry is kept (once) in `o`: restore.lua puts it back
  -- when the payment it was extended for fails.
  if not hold.o then hold.o = hold.e end
  hold.e = int_string(now + extend)
  raw = cjson.encode(hold)
  redis.call('HSET', K_HOLDS, hold_id, raw)
  redis.call('ZADD', K_EXP, now + extend, hold_id)
end
announce()
return {0, hold_id, raw, hold.e}
