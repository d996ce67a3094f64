-- 0007_report_notify.sql - tell report caches when the data a report is built from changes.
--
-- Owner: report service. Runs inside one transaction (see 0001).
--
-- sfp-report keeps assembled reports in memory (REPORT_CACHE_TTL_S) and LISTENs on
-- sfp_data_changed over a dedicated connection; every replica drops its whole cache on a
-- notification. Statement-level triggers cost one pg_notify per statement, not per row, and
-- notifications are delivered at commit and folded per transaction (same channel + payload),
-- so a bulk COPY or a nightly ingest of thousands of rows sends one message. Any writer -
-- sfp-seed, the cron jobs, a manual psql fix - invalidates, without having to remember to.
CREATE FUNCTION sfp_notify_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sfp_data_changed', '');
    RETURN NULL;
END
$$;

-- Exactly the tables services/report/report_db.c reads.
CREATE TRIGGER permits_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON permits
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
CREATE TRIGGER contacts_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
CREATE TRIGGER entities_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
CREATE TRIGGER inspections_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON inspections
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
CREATE TRIGGER addenda_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON addenda
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
CREATE TRIGGER parcel_summary_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON parcel_summary
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
CREATE TRIGGER regulatory_watch_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON regulatory_watch
    FOR EACH STATEMENT EXECUTE FUNCTION sfp_notify_data_changed();
