-- 0085_brief_data_quality.sql - the morning brief's data_quality section, stored.
--
-- Owner: brief service (read), nightly (refilled in its apply transaction), sfp-seed (filled).
-- Runs inside one transaction (see 0001).
--
-- data_quality tells, for planning records, tax rolls and boiler permits, how many of the
-- dataset's 200 newest rows (highest id; tax rolls: highest block, lot, tax year) have a permit
-- on their block + lot: 600 index probes into permits, the same for every user, changing only
-- when one of those four tables does. The definition is the view sfp_brief_data_quality_live;
-- brief_data_quality keeps its rows so a cold brief reads three rows instead of probing.
--
-- Staleness: the rows are valid only while the four tables are unchanged. A statement trigger
-- on each empties brief_data_quality on any write (the nightly's swap copies triggers to the
-- rebuilt tables); the nightly fills it again after its last write, in the same transaction,
-- and sfp-seed after its load. When the table is empty the brief reads the view (same result,
-- slower).
CREATE VIEW sfp_brief_data_quality_live AS
    SELECT 1 AS ord, 'planning_records'::text AS dataset, count(*) AS sampled,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM permits p WHERE p.block = s.block AND p.lot = s.lot)) AS matched
    FROM (SELECT block, lot FROM planning_records ORDER BY id DESC LIMIT 200) s
    UNION ALL
    SELECT 2, 'tax_rolls', count(*),
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM permits p WHERE p.block = s.block AND p.lot = s.lot))
    FROM (SELECT block, lot FROM tax_rolls ORDER BY block DESC, lot DESC, tax_year DESC LIMIT 200) s
    UNION ALL
    SELECT 3, 'boiler_permits', count(*),
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM permits p WHERE p.block = s.block AND p.lot = s.lot))
    FROM (SELECT block, lot FROM boiler_permits ORDER BY id DESC LIMIT 200) s;

CREATE TABLE brief_data_quality (
    ord     INTEGER PRIMARY KEY,
    dataset TEXT   NOT NULL,
    sampled BIGINT NOT NULL,
    matched BIGINT NOT NULL
);

-- Replaces the stored rows with the view's; returns how many it stored (3).
CREATE FUNCTION sfp_brief_data_quality_fill() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM brief_data_quality;
    INSERT INTO brief_data_quality (ord, dataset, sampled, matched)
        SELECT ord, dataset, sampled, matched FROM sfp_brief_data_quality_live;
    SELECT count(*) FROM brief_data_quality;
$$;

-- Any write to a table the view reads makes the stored rows stale: drop them.
CREATE FUNCTION sfp_brief_data_quality_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM brief_data_quality;
    RETURN NULL;
END $$;
CREATE TRIGGER permits_data_quality_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON permits
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_brief_data_quality_stale();
CREATE TRIGGER planning_records_data_quality_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON planning_records
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_brief_data_quality_stale();
CREATE TRIGGER tax_rolls_data_quality_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tax_rolls
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_brief_data_quality_stale();
CREATE TRIGGER boiler_permits_data_quality_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON boiler_permits
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_brief_data_quality_stale();

SELECT sfp_brief_data_quality_fill();
