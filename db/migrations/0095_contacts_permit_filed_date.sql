-- 0095_contacts_permit_filed_date.sql - the brief's team_activity finds a watched entity's
-- recent permits by an index range instead of joining all of the entity's contacts.
--
-- Owner: brief service. Runs inside one transaction (see 0001).
--
-- team_activity lists the permits filed since the lookback's first day that name a watched
-- entity among their contacts. A busy contractor has thousands of contacts, of which a handful
-- are on recent permits: joining them all with the permits filed since that day cost ~2.5 ms of
-- backend CPU per cold brief. With the permit's filing date kept on the contact row,
-- (entity_id, permit_filed_date) reads exactly the recent ones; the permits row stays the
-- authority (the brief still checks permits.filed_date).
--
--   contacts.permit_filed_date   filed_date of the PERMIT the contact belongs to (permits row of
--                                permit_number); NULL while that permit is unknown.
--
-- Like the report columns of 0060 it is not a SODA field (the SODA test server never serves it)
-- and its writers keep it right: sfp-seed writes it with the rows; the nightly fills it in its
-- apply transaction with the other contact columns (services/cron/cron_entities.c).
ALTER TABLE contacts ADD COLUMN permit_filed_date TEXT COLLATE "C";
UPDATE contacts c SET permit_filed_date = p.filed_date FROM permits p WHERE p.permit_number = c.permit_number;
CREATE INDEX contacts_entity_filed_idx ON contacts (entity_id, permit_filed_date);
