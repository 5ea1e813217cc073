-- Everything a client needs to draw availability, read in one atomic step
-- after purging expired holds.
-- ARGV[2] the layout id the caller's seat indexes refer to.
-- Returns {1} (state missing or of another layout: rebuild, then retry) or
-- {0, version, generation, sold bitmap, held bitmap, blocked bitmap,
--  {code, available, ...}} for the general-admission categories.
if not state_matches(ARGV[2]) then
  return {1}
end
purge_expired(now_ms())
local version = announce()
local ga = {}
local fields = redis.call('HKEYS', K_GA)
for _, field in ipairs(fields) do
  local code = string.match(field, '^cap:(.+)$')
  if code then
    table.insert(ga, code)
    table.insert(ga, tostring(math.max(ga_available(code), 0)))
  end
end
return {0, version, redis.call('GET', K_GEN),
  redis.call('GET', K_SOLD) or '', redis.call('GET', K_HELD) or '',
  redis.call('GET', K_BLOCKED) or '', ga}
