-- Fixed-window counter: counts one hit and reports whether it is allowed.
-- KEYS[1] counter key
-- ARGV[1] limit (hits allowed per window)
-- ARGV[2] window length in milliseconds
-- Returns {allowed (1|0), hits in this window, milliseconds until the window ends}
local allowed, hits, ttl = fixed_window_hit(KEYS[1], ARGV[1], ARGV[2])
return {allowed and 1 or 0, hits, ttl}
