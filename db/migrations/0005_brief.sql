-- 0005_brief.sql - indexes for the morning brief (issue 4).
--
-- Owner: brief service. Runs inside one transaction (see 0001). sfp-seed keeps these across
-- its COPY (it re-creates every non-constraint index of a bulk table from the catalog).
--
-- pipeline_health's data_freshness check reads MAX(addenda.data_as_of): without this index
-- that is a scan of ~3.9M rows on every brief computation.
CREATE INDEX addenda_data_as_of_idx ON addenda (data_as_of);
-- Address watches match permits on (street_number, UPPER(street_name)).
CREATE INDEX permits_street_upper_idx ON permits (street_number, upper(street_name));
-- The change feeds joined with address / parcel / neighborhood watches (changes, new_filings,
-- plan_reviews): without these, each watch type scans every change of the lookback window.
CREATE INDEX permit_changes_street_upper_idx ON permit_changes (street_number, upper(street_name), change_date);
CREATE INDEX permit_changes_neighborhood_idx ON permit_changes (neighborhood, change_date);
CREATE INDEX addenda_changes_street_upper_idx ON addenda_changes (street_number, upper(street_name), change_date);
CREATE INDEX addenda_changes_block_lot_idx ON addenda_changes (block, lot, change_date);
