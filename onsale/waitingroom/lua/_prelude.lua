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

-- Lapse the admitted numbers whose claim window ended (deadline <= now): they
-- leave `unclaimed` (freeing their slots) and, when there is a grace period,
-- wait in `lapsed` (number -> claim deadline + grace ms) so the fan can take
-- the turn back; `q`'s 'lapsed_n' counts every turn that lapsed. Turns whose
-- grace ended leave `lapsed`. The work is bounded by max_active (no more
-- numbers than that are ever unclaimed at once).
local function claims_lapse(unclaimed, lapsed, q, now, grace_ms)
  redis.call('ZREMRANGEBYSCORE', lapsed, '-inf', now)
  local gone = redis.call('ZRANGEBYSCORE', unclaimed, '-inf', now, 'WITHSCORES')
  if #gone == 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', unclaimed, '-inf', now)
  local args = {}
  for i = 1, #gone, 2 do
    local grace_end = tonumber(gone[i + 1]) + grace_ms
    if grace_end > now then
      args[#args + 1] = grace_end
      args[#args + 1] = gone[i]
      if #args >= 1000 then
        redis.call('ZADD', lapsed, unpack(args))
        args = {}
      end
    end
  end
  if #args > 0 then redis.call('ZADD', lapsed, unpack(args)) end
  redis.call('HINCRBY', q, 'lapsed_n', #gone / 2)
  return #gone / 2
end

-- Hand `user` the next number, at the back of the line (join and rejoin).
-- KEYS passed in: cfg, q, the user's place bucket, the issue log.
local function number_issue(cfg, q, bucket, issue_log, user, now)
  local f = redis.call('HMGET', q, 'issued', 'serving', 'tok', 'ts')
  local tok, ts = tonumber(f[3]), tonumber(f[4])
  if tok and ts and now > ts and (tonumber(f[1]) or 0) <= (tonumber(f[2]) or 0) then
    -- Nobody was waiting since the last evaluation: the tokens that came in
    -- meanwhile could only fill the bucket up to the burst (evaluate.lua
    -- credits a gap in full, assuming fans waited through it).
    local c = redis.call('HMGET', cfg, 'rate', 'burst')
    tok = math.min(tonumber(c[2]) * 60000,
      tok + math.min(now - ts, 86400000) * tonumber(c[1]))
    redis.call('HSET', q, 'tok', tok, 'ts', now)
  end
  local number = redis.call('HINCRBY', q, 'issued', 1)
  redis.call('HSET', bucket, user, number)
  -- When each number was handed out, to the second, in one entry per second
  -- (not per fan): the Admission telemetry's wait from join to claim.
  local second = math.floor(now / 1000)
  if tonumber(redis.call('HGET', q, 'ls')) ~= second then
    redis.call('HSET', q, 'ls', second)
    redis.call('ZADD', issue_log, number, second)
  end
  return number
end

-- The fan's session record: sid, issued ms, end ms, status ('a' or 'd'),
-- the number it was claimed for; nil without one.
local function session_record(sess, user)
  local record = redis.call('HGET', sess, user)
  if not record then return nil end
  local sid, issued_ms, end_ms, status, number =
    string.match(record, '^([^|]+)|(%d+)|(%d+)|(%a)|(%d+)$')
  return {sid = sid, issued_ms = tonumber(issued_ms), end_ms = tonumber(end_ms),
    status = status, number = tonumber(number)}
end

-- Start `user`'s shopping session `sid` for place `number` (0: a direct
-- admission) now; the caller has freed or found the slot.
local function session_open(cfg, active, sess, sids, user, sid, number, now)
  local session_end = now + tonumber(redis.call('HGET', cfg, 'session_s')) * 1000
  redis.call('ZADD', active, session_end, sid)
  redis.call('HSET', sess, user, sid .. '|' .. now .. '|' .. session_end .. '|a|' .. number)
  redis.call('HSET', sids, sid, user)
  return session_end
end
