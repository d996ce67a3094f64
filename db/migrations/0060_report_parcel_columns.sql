-- 0060_report_parcel_columns.sql - the property report reads a parcel's children by parcel.
--
-- Owner: report service. Runs inside one transaction (see 0001).
--
-- A report lists the permits of a parcel (its lot and historical lots) with their contacts,
-- inspections and plan-review routing. Read by permit number, each child table costs one B-tree
-- descent per permit (Postgres descends once per `= ANY` array element) and a parcel's permits
-- are scattered over those indexes (permit numbers start with their filing date). With the
-- permit's block and lot stored on the child rows, one descent per lot finds them all:
--
--   contacts, inspections, addenda   permit_block, permit_lot: block and lot of the PERMIT the
--                                    row belongs to (permits.block/lot of permit_number,
--                                    reference_number or application_number), not the row's own
--                                    address; NULL while that permit is unknown. An inspection
--                                    keeps its own block/lot too: it may be filed under another
--                                    lot than its permit, and the report lists it with the permit.
--   contacts                         entity_name, entity_firm, entity_permit_count: canonical
--                                    name, firm and permit count of the contact's entity
--                                    (entities row of entity_id), so that a report does not look
--                                    up each contact's entity.
--
-- None of these columns is a SODA field: the SODA test server never serves them. Writers keep
-- them right: sfp-seed writes them with the rows; the nightly fills them in its apply
-- transaction (services/cron/cron_entities.c, "report columns") for new rows, for the children
-- of re-ingested permits and for the contacts of re-computed entities.
ALTER TABLE contacts
    ADD COLUMN permit_block TEXT COLLATE "C",
    ADD COLUMN permit_lot TEXT COLLATE "C",
    ADD COLUMN entity_name TEXT COLLATE "C",
    ADD COLUMN entity_firm TEXT COLLATE "C",
    ADD COLUMN entity_permit_count INTEGER;
ALTER TABLE inspections
    ADD COLUMN permit_block TEXT COLLATE "C",
    ADD COLUMN permit_lot TEXT COLLATE "C";
ALTER TABLE addenda
    ADD COLUMN permit_block TEXT COLLATE "C",
    ADD COLUMN permit_lot TEXT COLLATE "C";

UPDATE contacts c SET permit_block = p.block, permit_lot = p.lot
  FROM permits p WHERE p.permit_number = c.permit_number;
UPDATE contacts c SET entity_name = e.canonical_name, entity_firm = e.canonical_firm,
       entity_permit_count = e.permit_count
  FROM entities e WHERE e.entity_id = c.entity_id;
UPDATE inspections i SET permit_block = p.block, permit_lot = p.lot
  FROM permits p WHERE p.permit_number = i.reference_number
   AND coalesce(i.reference_number_type, 'permit') = 'permit';
UPDATE addenda a SET permit_block = p.block, permit_lot = p.lot
  FROM permits p WHERE p.permit_number = a.application_number;

-- A report's child rows, one descent per lot. Routing reads only the permits in review among
-- them: with the permit number in the index, Postgres would descend once per listed permit, so
-- the addenda index stops at the lot and the permit numbers filter the parcel's rows. The
-- nightly's table swap copies the live table's indexes, so these survive a swap.
CREATE INDEX contacts_permit_parcel_idx ON contacts (permit_block, permit_lot, permit_number);
CREATE INDEX inspections_permit_parcel_idx ON inspections (permit_block, permit_lot, reference_number);
CREATE INDEX addenda_permit_parcel_idx ON addenda (permit_block, permit_lot);
