-- 0004_bulk_indexes.sql - secondary indexes of the bulk tables, shaped by the queries of the
-- report (sec. 1.2), the brief (sec. 2.2/2.4) and the cron jobs (sec. 3.7/3.8).
--
-- Owner: migrations (helper "schema/seed"). Runs inside one transaction (see 0001).
-- This file is the single definition of these indexes: sfp-seed reads them back from the
-- catalog (pg_get_indexdef), drops them before its COPY and re-creates them afterwards.
-- No trigram indexes (pg_trgm may be missing).

-- report: permits of a parcel, newest first (LIMIT 50); nearby activity by neighborhood;
-- historical-lot lookup and the brief's address matches.
CREATE INDEX permits_block_lot_filed_idx ON permits (block, lot, filed_date DESC);
CREATE INDEX permits_neighborhood_filed_idx ON permits (neighborhood, filed_date DESC);
CREATE INDEX permits_street_idx ON permits (street_number, street_name);
CREATE INDEX permits_status_idx ON permits (status);
CREATE INDEX permits_filed_date_idx ON permits (filed_date);

-- report/brief: contacts of a batch of permits; team activity by entity.
CREATE INDEX contacts_permit_number_idx ON contacts (permit_number);
CREATE INDEX contacts_entity_id_idx ON contacts (entity_id);

CREATE INDEX entities_license_number_idx ON entities (license_number);

-- report/brief: inspections of a batch of permits, newest first; signals per parcel.
CREATE INDEX inspections_reference_scheduled_idx ON inspections (reference_number, scheduled_date DESC);
CREATE INDEX inspections_block_lot_idx ON inspections (block, lot);

-- routing progress per permit (also serves application_number alone); nightly upsert key;
-- station queues (arrived, not finished) for congestion.
CREATE INDEX addenda_application_idx ON addenda (application_number, addenda_number, step);
CREATE INDEX addenda_primary_key_idx ON addenda (primary_key);
CREATE INDEX addenda_open_station_idx ON addenda (station) WHERE finish_date IS NULL;

-- enforcement per parcel (brief cards, signals); complaint -> NOV items.
CREATE INDEX complaints_block_lot_idx ON complaints (block, lot);
CREATE INDEX complaints_complaint_number_idx ON complaints (complaint_number);
CREATE INDEX violations_block_lot_idx ON violations (block, lot);
CREATE INDEX violations_complaint_number_idx ON violations (complaint_number);

CREATE INDEX parcel_summary_neighborhood_idx ON parcel_summary (neighborhood);

CREATE INDEX timeline_stats_neighborhood_idx ON timeline_stats (neighborhood);
CREATE INDEX timeline_stats_type_idx ON timeline_stats (permit_type_definition);
