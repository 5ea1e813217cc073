-- Evaluate the room once: purge ended sessions and lapsed claims, refill the
-- token bucket and admit (advance the serving number), then report the public
-- status and, when asked, one fan's place. Any pod, request or the beat tick
-- may run it; being one script, two runs never admit the same tokens twice.
-- KEYS[1] cfg  KEYS[2] q  KEYS[3] unclaimed  KEYS[4] active  KEYS[5] lapsed
-- KEYS[6] sess  KEYS[7] the fan's place bucket (both only with a user)
-- ARGV[1] now ms or '' (Redis clock)   ARGV[2] user id or ''
-- ARGV[3] grace ms: how long a lapsed turn can be taken back
-- Returns {-9} when there is no live config, else the array documented in
-- scripts.py (RoomEvaluation).
if redis.call('EXISTS', KEYS[1]) == 0 then return {-9} end
local now = now_ms(ARGV[1])
local c = redis.call('HMGET', KEYS[1], 'state', 'ev', 'pq_at', 'onsale', 'rate',
  'burst', 'max_active', 'claim_s', 'ver')
local q = redis.call('HMGET', KEYS[2], 'issued', 'serving', 'pq', 'drawn', 'tok',
  'ts', 'total', 'seed', 'drawn_n', 'drawn_at')
local state, ev = c[1], c[2]
local pq_at, onsale = tonumber(c[3]), tonumber(c[4])
local rate, burst = tonumber(c[5]), tonumber(c[6])
local max_active, claim_ms = tonumber(c[7]), tonumber(c[8]) * 1000
local issued, serving = tonumber(q[1]) or 0, tonumber(q[2]) or 0
local pq, drawn = tonumber(q[3]) or 0, q[4] == '1'
local total = tonumber(q[7]) or 0
local seed, drawn_n, drawn_at = q[8] or '', tonumber(q[9]) or 0, tonumber(q[10]) or 0

local placement = placement_of(state, drawn, now, onsale, pq_at)
local effective = placement
if ev == 'cancelled' or state == 'closed' then
  effective = 'closed'
elseif state == 'paused' then
  effective = 'paused'
end

local draw_due = 0
if placement == 'open' and not drawn then
  if pq > 0 then
    draw_due = 1
  else
    redis.call('HSET', KEYS[2], 'drawn', 1, 'drawn_n', 0, 'drawn_at', now)
    drawn, drawn_at = true, now
  end
end

-- A deadline equal to now has passed.
claims_lapse(KEYS[3], KEYS[5], KEYS[2], now, tonumber(ARGV[3]))
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local unclaimed = redis.call('ZCARD', KEYS[3])
local active = redis.call('ZCARD', KEYS[4])

local measured = ''
if placement == 'open' and drawn then
  -- Tokens are kept in units of 1/60000 of a token, so a refill of
  -- (elapsed ms * rate per minute) units is exact integer arithmetic: no
  -- drift over a long sale, no admission lost or gained to rounding.
  local UNIT = 60000
  local cap = burst * UNIT
  local tok, ts = tonumber(q[5]), tonumber(q[6])
  if not tok or not ts then
    -- The bucket starts full when numbered admission begins.
    tok, ts = cap, now
  elseif now > ts then
    -- (A gap of over a day counts as a day: the sum stays exact in a double.)
    tok, ts = tok + math.min(now - ts, 86400000) * rate, now
  end
  -- The burst caps the tokens left after admitting, not before: between two
  -- evaluations fans were waiting all along and would have taken each token
  -- as it came, so tokens only pile up (to the burst) when nobody could use
  -- them (empty queue, no free slot, paused).
  if effective == 'open' then
    local k = math.min(math.floor(tok / UNIT), issued - serving,
      max_active - unclaimed - active)
    if k > 0 then
      local deadline = now + claim_ms
      local args = {}
      for number = serving + 1, serving + k do
        args[#args + 1] = deadline
        args[#args + 1] = number
        if #args >= 1000 then
          redis.call('ZADD', KEYS[3], unpack(args))
          args = {}
        end
      end
      if #args > 0 then redis.call('ZADD', KEYS[3], unpack(args)) end
      serving, total, unclaimed = serving + k, total + k, unclaimed + k
      tok = tok - k * UNIT
    end
  end
  if tok > cap then tok = cap end
  -- Admission history: the total at the first evaluation of each 5-second
  -- slot, 13 slots, so the measured rate covers up to the last minute.
  local ring = redis.call('HMGET', KEYS[2], 'r0', 'r1', 'r2', 'r3', 'r4', 'r5',
    'r6', 'r7', 'r8', 'r9', 'r10', 'r11', 'r12')
  local slot = math.floor(now / 5000)
  local index = slot % 13
  local current = ring[index + 1]
  local current_ms = current and tonumber(string.match(current, '^(%d+)'))
  local record = {}
  if not current_ms or math.floor(current_ms / 5000) ~= slot then
    ring[index + 1] = now .. ':' .. total
    record = {'r' .. index, ring[index + 1]}
  end
  local best_ms, best_total
  for i = 1, 13 do
    local entry = ring[i]
    if entry then
      local ms, count = string.match(entry, '^(%d+):(%d+)$')
      ms, count = tonumber(ms), tonumber(count)
      if ms and ms >= now - 60000 and ms <= now - 1000
          and (not best_ms or ms < best_ms) then
        best_ms, best_total = ms, count
      end
    end
  end
  if best_ms then
    measured = string.format('%.3f', (total - best_total) * 60000 / (now - best_ms))
  end
  redis.call('HSET', KEYS[2], 'serving', serving, 'total', total, 'tok', tok,
    'ts', ts, unpack(record))
end

local number, session, deadline, grace_end = -1, '', -1, -1
if ARGV[2] ~= '' then
  number = tonumber(redis.call('HGET', KEYS[7], ARGV[2])) or -1
  session = redis.call('HGET', KEYS[6], ARGV[2]) or ''
  if number > 0 and number <= serving then
    deadline = tonumber(redis.call('ZSCORE', KEYS[3], number)) or -1
    if deadline < 0 then
      grace_end = tonumber(redis.call('ZSCORE', KEYS[5], number)) or -1
    end
  end
end
local turns = redis.call('HMGET', KEYS[2], 'lapsed_n', 'reclaimed_n', 'rejoined_n')

return {1, now, effective, placement, issued, serving, pq, drawn and 1 or 0, seed,
  drawn_n, drawn_at, unclaimed, active, rate, burst, max_active, measured, pq_at,
  onsale, tonumber(c[9]) or 0, draw_due, number, session, deadline, total, ev,
  tonumber(turns[1]) or 0, tonumber(turns[2]) or 0, tonumber(turns[3]) or 0,
  grace_end}
