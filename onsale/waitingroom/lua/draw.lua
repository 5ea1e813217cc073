-- Draw the pre-queue once: shuffle its members with a published seed and
-- number them 1..n. Exactly once: the first call that finds the on-sale
-- started does it, every later call returns the recorded draw.
-- KEYS[1] cfg   KEYS[2] q   KEYS[3] issue log (see join.lua)
-- KEYS[4..] every place bucket, bucket b at KEYS[4 + b]
-- ARGV[1] seed (hex; used only by the call that draws)   ARGV[2] now ms or ''
-- Returns {1, seed, n} drawn now, {0, seed, n} drawn before, {-1} not due yet,
--         {-9} no live config.
--
-- The method ("sha1-ctr-fisher-yates-v1", recomputed by
-- onsale/waitingroom/draw.py): members sorted by user id ascending, then a
-- Fisher-Yates shuffle, i from n-1 down to 1 (0-based), swapping a[i] with
-- a[j], j = uniform(i + 1). uniform(m) takes 48-bit values r from the stream
-- and returns r mod m for the first r < 2^48 - (2^48 mod m) (rejection, so no
-- modulo bias). The stream: block b = SHA-1(seed .. ':' .. b) in hex, read as
-- three 48-bit values (hex digits 1-12, 13-24, 25-36), b = 0, 1, 2, ...
-- After the shuffle a[k] gets number k + 1.
if redis.call('EXISTS', KEYS[1]) == 0 then return {-9} end
local q = redis.call('HMGET', KEYS[2], 'drawn', 'seed', 'drawn_n', 'issued')
if q[1] == '1' then return {0, q[2] or '', tonumber(q[3]) or 0} end
local now = now_ms(ARGV[2])
local c = redis.call('HMGET', KEYS[1], 'state', 'onsale')
if not (c[1] == 'open' or now >= tonumber(c[2])) then return {-1} end

local members = {}
for i = 4, #KEYS do
  local flat = redis.call('HGETALL', KEYS[i])
  for j = 1, #flat, 2 do
    if flat[j + 1] == '0' then members[#members + 1] = tonumber(flat[j]) end
  end
end
table.sort(members)
local n = #members

local seed = ARGV[1]
local TWO48 = 281474976710656
local block, pos, digest = 0, 3, ''
local function next48()
  if pos == 3 then
    digest = redis.sha1hex(seed .. ':' .. block)
    block = block + 1
    pos = 0
  end
  local value = tonumber(string.sub(digest, pos * 12 + 1, pos * 12 + 12), 16)
  pos = pos + 1
  return value
end
local function uniform(m)
  local limit = TWO48 - (TWO48 % m)
  while true do
    local r = next48()
    if r < limit then return r % m end
  end
end
-- 1-based: i runs n..2 and j = uniform(i) + 1 is the 0-based rule above.
for i = n, 2, -1 do
  local j = uniform(i) + 1
  members[i], members[j] = members[j], members[i]
end

local base = tonumber(q[4]) or 0
local buckets = #KEYS - 3
local writes = {}
for k = 1, n do
  local user = members[k]
  local b = 4 + (user % buckets)
  local list = writes[b]
  if not list then list = {}; writes[b] = list end
  list[#list + 1] = user
  list[#list + 1] = base + k
end
for b, list in pairs(writes) do
  for start = 1, #list, 1000 do
    redis.call('HSET', KEYS[b], unpack(list, start, math.min(start + 999, #list)))
  end
end
redis.call('HSET', KEYS[2], 'drawn', 1, 'seed', seed, 'drawn_n', n, 'drawn_at', now,
  'issued', base + n, 'pq', 0)
if n > 0 then
  -- Pre-queued fans count as joining at the draw (the on-sale).
  redis.call('ZADD', KEYS[3], base + 1, math.floor(now / 1000))
end
return {1, seed, n}
