-- 0080_page_cache_notify.sql - announce every change to a live page_cache row.
--
-- Owner: page cache (common/page_cache.c). Runs inside one transaction (see 0001).
--
-- A service may keep pages it read from page_cache in its own memory (the brief does) and
-- serve them without a query until the row's own expiry. For that to stay truthful, whatever
-- makes a live row stop being the page - an invalidation, any other update, a delete - is
-- announced on channel sfp_page_cache with the row's key as payload; a TRUNCATE announces ''
-- (every key). Rows that are already dead (invalidated or past their TTL) are not announced:
-- no process may serve them anyway, so the usual recompute (an upsert over a dead row) and the
-- purge of dead rows stay silent. NOTIFY is delivered at commit, so a rolled-back
-- invalidation announces nothing.
CREATE FUNCTION page_cache_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('sfp_page_cache', '');
    ELSE
        PERFORM pg_notify('sfp_page_cache', OLD.cache_key);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER page_cache_live_changed AFTER UPDATE OR DELETE ON page_cache FOR EACH ROW
    WHEN (OLD.invalidated_at IS NULL AND OLD.computed_at + make_interval(mins => OLD.ttl_minutes) > now())
    EXECUTE FUNCTION page_cache_announce();

CREATE TRIGGER page_cache_truncated AFTER TRUNCATE ON page_cache FOR EACH STATEMENT
    EXECUTE FUNCTION page_cache_announce();
