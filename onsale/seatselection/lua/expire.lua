-- Release expired holds (the sweep task; every other script does this too).
-- Returns {0, holds purged, version}.
local purged = purge_expired(now_ms())
return {0, purged, announce()}
