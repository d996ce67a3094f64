-- 0025_search_indexes.sql - indexes of the parcel search (ReportService.SearchParcels).
--
-- Runs inside one transaction (see 0001). Like 0004, sfp-seed reads these definitions back
-- from the catalog and re-creates them after its COPY.
--
-- The search normalises what the user typed (upper case, suffix and unit dropped, numbered
-- streets zero padded) and matches the street name as a prefix: upper(street_name) LIKE
-- 'MISS%'. The bulk columns use the "C" collation (0006), so a plain btree serves such a
-- prefix as a range scan; upper() keeps the match case-insensitive whatever the ingest wrote.
--   address "1600 Mission St": street_number = $1 AND upper(street_name) LIKE $2
--   street  "Mission":         upper(street_name) LIKE $1, in index order
-- Block/lot and permit-number searches use permits_block_lot_filed_idx and the primary key.
CREATE INDEX permits_search_number_street_idx ON permits (street_number, upper(street_name));
CREATE INDEX permits_search_street_idx ON permits (upper(street_name), street_number);
