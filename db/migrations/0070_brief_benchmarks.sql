-- 0070_brief_benchmarks.sql - the predictability benchmarks of the morning brief, per day.
--
-- Owner: brief service (read), nightly (rebuilt in its apply transaction), sfp-seed (filled).
-- Runs inside one transaction (see 0001).
--
-- The brief's `health` section compares each watched active permit with the days_to_issuance
-- of comparable permits issued in the 365 days up to today, narrowest group first with at least
-- 10 samples: (review path, neighborhood, cost bracket, type), (review path, cost bracket, type),
-- (review path, type), (review path). Those percentiles depend on the day and on timeline_stats
-- only, not on the user, so they are computed once per day here instead of on every cold brief.
--
--   lvl 1  neighborhood + cost bracket + type     lvl 3  type (cost_bracket, neighborhood '')
--   lvl 2  cost bracket + type (neighborhood '')  lvl 4  review path only (the three keys '')
--
-- Levels 1-3 leave out trade permits (type matching electrical, plumbing or mechanical, any
-- case) and rows missing a key; level 4 leaves out trade rows (a missing type is no trade).
-- Only groups with >= 10 samples are stored: exactly the groups the live query would accept.
-- pc = percentile_disc(ARRAY[0.5, 0.75, 0.9]) over days_to_issuance, as the live query.
--
-- Staleness: a row is valid only while timeline_stats is unchanged since it was computed. A
-- statement trigger on timeline_stats therefore empties this table on any write (the nightly's
-- swap copies triggers to the rebuilt table, so its rebuild empties it too); the nightly fills it
-- again for its day after its derived tables, in the same transaction, and sfp-seed after its
-- load. When no row exists for the brief's day the brief computes the benchmarks live (same
-- result, slower).
CREATE TABLE brief_benchmarks (
    day                    DATE     NOT NULL,
    lvl                    SMALLINT NOT NULL,
    review_path            TEXT COLLATE "C" NOT NULL,
    permit_type_definition TEXT COLLATE "C" NOT NULL,
    cost_bracket           TEXT COLLATE "C" NOT NULL,
    neighborhood           TEXT COLLATE "C" NOT NULL,
    n                      BIGINT   NOT NULL,
    pc                     INTEGER[] NOT NULL,
    PRIMARY KEY (day, review_path, lvl, permit_type_definition, cost_bracket, neighborhood)
);

-- Replaces the rows of day d from timeline_stats; returns how many groups it stored.
CREATE FUNCTION sfp_brief_benchmarks_fill(d date) RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM brief_benchmarks WHERE day = d;
    INSERT INTO brief_benchmarks (day, lvl, review_path, permit_type_definition, cost_bracket, neighborhood, n, pc)
    WITH t AS MATERIALIZED (
        SELECT review_path AS rp, permit_type_definition AS ty, cost_bracket AS cb, neighborhood AS nb,
               days_to_issuance AS v,
               coalesce(permit_type_definition, '') !~* '(electrical|plumbing|mechanical)' AS ok
        FROM timeline_stats
        WHERE issued > d - 365 AND issued <= d AND days_to_issuance IS NOT NULL AND review_path IS NOT NULL)
    SELECT d, 1, rp, ty, cb, nb, count(*), percentile_disc(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY v)
        FROM t WHERE ok AND ty IS NOT NULL AND cb IS NOT NULL AND nb IS NOT NULL
        GROUP BY rp, ty, cb, nb HAVING count(*) >= 10
    UNION ALL
    SELECT d, 2, rp, ty, cb, '', count(*), percentile_disc(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY v)
        FROM t WHERE ok AND ty IS NOT NULL AND cb IS NOT NULL
        GROUP BY rp, ty, cb HAVING count(*) >= 10
    UNION ALL
    SELECT d, 3, rp, ty, '', '', count(*), percentile_disc(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY v)
        FROM t WHERE ok AND ty IS NOT NULL
        GROUP BY rp, ty HAVING count(*) >= 10
    UNION ALL
    SELECT d, 4, rp, '', '', '', count(*), percentile_disc(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY v)
        FROM t WHERE ok
        GROUP BY rp HAVING count(*) >= 10;
    SELECT count(*) FROM brief_benchmarks WHERE day = d;
$$;

-- Any write to timeline_stats makes every stored benchmark stale: drop them (the brief then
-- computes live until the next fill).
CREATE FUNCTION sfp_brief_benchmarks_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM brief_benchmarks;
    RETURN NULL;
END $$;
CREATE TRIGGER timeline_stats_benchmarks_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON timeline_stats
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_brief_benchmarks_stale();
