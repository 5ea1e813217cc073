-- Write the live configuration unless a newer version is already there, so a
-- slow writer holding an old row can never undo a newer change.
-- KEYS[1] cfg
-- ARGV[1] version   ARGV[2] '1' to write even over a newer version (the
-- database was rolled back below it)   ARGV[3..] field, value, field, value ...
-- Returns 1 written, 0 skipped (a newer version is live).
local current = tonumber(redis.call('HGET', KEYS[1], 'ver'))
if ARGV[2] ~= '1' and current and current > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'ver', ARGV[1], unpack(ARGV, 3))
return 1
