-- Shared by the waiting room's scripts (scripts.py puts it in front of each one).

-- The time of this call in ms: `arg` when a test injects its clock, or the
-- Redis clock ('' in production), so every pod agrees whatever its own clock.
local function now_ms(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Where a joiner lands now: 'scheduled' (too early), 'prequeue' or 'open'.
local function placement_of(state, drawn, now, onsale, pq_at)
  if drawn or state == 'open' or now >= onsale then
    return 'open'
  elseif state == 'prequeue' or now >= pq_at then
    return 'prequeue'
  end
  return 'scheduled'
end
