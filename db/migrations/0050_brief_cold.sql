-- 0050_brief_cold.sql - an index for the cold morning brief.
--
-- Owner: brief service. Runs inside one transaction (see 0001).
--
-- change_velocity counts permit_changes detected since the lookback's start by change_type:
-- with change_type in the index the count is an index-only range scan of the window instead
-- of a scan of the table (permit_changes grows by every nightly; the window is 1-90 days).
-- The nightly's table swap copies the live table's indexes, so this one survives a swap.
CREATE INDEX permit_changes_detected_type_idx ON permit_changes (detected_at, change_type);
