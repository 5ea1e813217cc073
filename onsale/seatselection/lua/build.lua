-- Build the event's seat state from MySQL for one layout of its map.
-- ARGV[2] layout version, ARGV[3] layout token (together the layout id),
-- ARGV[4] build token (the generation becomes "<version>:<layout token>:<build
-- token>"), ARGV[5] blocked version, ARGV[6] blocked bitmap, ARGV[7] sold
-- bitmap, ARGV[8] m, then m triples (code, capacity, sold).
--
-- Idempotent per layout: if the state was built for this layout, or for a
-- newer version (the caller is behind), nothing changes, so any number of
-- callers may race to build it. If it was built for another, older layout
-- (the organizer replaced the map), every hold is dropped first: their seat
-- indexes meant other seats. If the generation is missing (first use, or
-- Redis lost it), what survived is kept: sold seats are OR-ed in (a sale
-- marked sold after the caller read MySQL must stay), holds stay. The blocked
-- bitmap is replaced only by a version at least as new as the stored one (an
-- organizer's change written meanwhile wins). The hold sequence restarts no
-- lower than the Redis clock in microseconds, so hold ids keep increasing
-- even after Redis lost the old sequence; the availability version is never
-- reset.
-- Returns {0} (nothing to do) or {1, version} (built now).
local layout = tonumber(ARGV[2])
local layout_id = ARGV[2] .. ':' .. ARGV[3]
local gen = redis.call('GET', K_GEN)
if gen then
  if string.sub(gen, 1, #layout_id + 1) == layout_id .. ':' then
    return {0}
  end
  local built_for = tonumber(string.match(gen, '^(%d+):'))
  if built_for and built_for > layout then
    return {0}
  end
  redis.call('DEL', K_SOLD, K_HELD, K_BLOCKED, K_BLOCKVER, K_EXP,
    K_HOLDS, K_SESSIONS, K_FANS, K_GA, K_TMP)
  changes.reload = true
end
if #ARGV[7] > 0 then
  redis.call('SET', K_TMP, ARGV[7])
  redis.call('BITOP', 'OR', K_SOLD, K_SOLD, K_TMP)
  redis.call('DEL', K_TMP)
end
if tonumber(ARGV[5]) >= tonumber(redis.call('GET', K_BLOCKVER) or '0') then
  redis.call('SET', K_BLOCKED, ARGV[6])
  redis.call('SET', K_BLOCKVER, ARGV[5])
end
local m = tonumber(ARGV[8])
for j = 1, m do
  local code = ARGV[6 + 3 * j]
  local sold = tonumber(ARGV[8 + 3 * j])
  redis.call('HSET', K_GA, 'cap:' .. code, ARGV[7 + 3 * j])
  if sold > tonumber(redis.call('HGET', K_GA, 'sold:' .. code) or '0') then
    redis.call('HSET', K_GA, 'sold:' .. code, sold)
  end
end
local t = redis.call('TIME')
local floor = t[1] .. string.format('%06d', tonumber(t[2]))
local current = redis.call('GET', K_SEQ)
if not current or tonumber(current) < tonumber(floor) then
  redis.call('SET', K_SEQ, floor)
end
redis.call('SET', K_GEN, layout_id .. ':' .. ARGV[4])
changes.refresh = true
return {1, announce()}
