-- Release one hold of one user.
-- ARGV[2] user id, ARGV[3] hold id.
-- Returns {0, version} released, {1} no such active hold for this user.
local now = now_ms()
purge_expired(now)
local hold_id = ARGV[3]
local raw = redis.call('HGET', K_HOLDS, hold_id)
if not raw then
  announce()
  return {1}
end
local hold = cjson.decode(raw)
if hold.u ~= ARGV[2] then
  announce()
  return {1}
end
hold_remove(hold_id, hold, true)
return {0, announce()}
