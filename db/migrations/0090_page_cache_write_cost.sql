-- 0090_page_cache_write_cost.sql - a cheaper page_cache write (every cold brief writes one).
--
-- Owner: page cache (common/page_cache.c). Runs inside one transaction (see 0001).
--
-- A brief is a ~45 KB packed protobuf that Postgres compresses and stores out of line (TOAST,
-- ~2 KB chunks) on every recompute. Measured with bench/page_cache_miss.sh (the cache's whole
-- miss path with a real brief as the page, backend CPU per miss, medians of alternated runs):
-- pglz 1.27 ms, lz4 0.77 ms, no compression (STORAGE EXTERNAL) 0.80 ms; lz4 then unlogged
-- 0.52 ms against 0.65 ms logged. So:
--
-- 1. payload is compressed with lz4: the same size on disk as pglz for these pages (16.8 KB
--    against 16.6 KB out of 44 KB), a third of pglz's CPU to write and faster to read back.
--    A server built without lz4 keeps pglz (the statement is skipped with a notice). Rows
--    written before keep their pglz data until their next recompute; reads handle both.
-- 2. The table is UNLOGGED: its writes (row, TOAST chunks, index entries) skip the WAL. The
--    table is a cache of pages that can always be recomputed: after a crash of the server it
--    is empty (Postgres truncates unlogged tables in crash recovery), it is not copied to
--    physical standbys or base backups, and every page is then computed again on its next
--    read. No service reads page_cache on a standby. A clean shutdown keeps it.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE page_cache ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'page_cache.payload stays pglz: %', SQLERRM;
END
$$;

ALTER TABLE page_cache SET UNLOGGED;
