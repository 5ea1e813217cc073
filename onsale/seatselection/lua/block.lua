-- Replace the blocked-seats bitmap with the organizer's newer version. Runs
-- whether or not the state is built, so a rebuild that read MySQL before the
-- change cannot overwrite it with the older set (build.lua compares versions).
-- ARGV[2] blocked version, ARGV[3] blocked bitmap.
-- Returns {0, version} applied, {1} a newer version is already there.
if tonumber(ARGV[2]) <= tonumber(redis.call('GET', K_BLOCKVER) or '0') then
  return {1}
end
redis.call('SET', K_BLOCKED, ARGV[3])
redis.call('SET', K_BLOCKVER, ARGV[2])
changes.refresh = true
return {0, announce()}
