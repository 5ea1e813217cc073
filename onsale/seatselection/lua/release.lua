-- Release one hold of one user.
-- ARGV[2] user id, ARGV[3] hold id.
-- Returns {0, version} released, {1} no such active hold for this user.
local now = now_ms()
purge_expired(now)
local hold_id = ARGV[3]
local _, hold = user_hold(hold_id, ARGV[2])
if not hold then
  announce()
  return {1}
end
hold_remove(hold_id, hold, true)
return {0, announce()}
