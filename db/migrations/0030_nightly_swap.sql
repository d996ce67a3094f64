-- 0030_nightly_swap.sql - schemas the nightly's full ingest uses to rebuild a table and swap it in.
--
-- Owner: cron service (nightly). Runs inside one transaction (see 0001).
--
-- A full ingest builds each target table's replacement as nightly_new.<table> (same columns,
-- triggers and grants, indexes built once after loading), then, inside the same transaction,
-- moves the live table to nightly_old, the new one into its place, and drops the old one.
-- Both schemas are empty outside that transaction: nothing is ever left in them (a failed
-- run rolls back).
CREATE SCHEMA nightly_new;
CREATE SCHEMA nightly_old;
