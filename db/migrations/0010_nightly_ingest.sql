-- 0010_nightly_ingest.sql - state of the nightly SODA ingest (sfp-cron RunNightly).
--
-- Owner: cron service (nightly). Runs inside one transaction (see 0001).
--
-- nightly_watermarks: one row per SODA dataset the nightly reads. `watermark` is the highest
-- value of the dataset's update field (e.g. data_as_of) that a SUCCESSFUL run has ingested; the
-- next incremental run asks SODA only for rows above it ($where field > 'watermark'). The row is
-- written in the same transaction that swaps the staged rows into the live table, so a failed
-- run never moves it. No row = the dataset was never ingested: the next run fetches it in full.
CREATE TABLE nightly_watermarks (
    dataset_id      TEXT PRIMARY KEY,               -- SODA 4x4 id, e.g. 'i98e-djp9'
    name            TEXT NOT NULL,                  -- e.g. 'permits', 'contacts_building'
    target_table    TEXT NOT NULL,
    update_field    TEXT NOT NULL,
    watermark       TEXT,                           -- floating timestamp text, NULL = none yet
    last_full_at    TIMESTAMPTZ,                    -- last successful full (replace) ingest
    last_success_at TIMESTAMPTZ,
    last_log_id     BIGINT,                         -- cron_log.log_id of that run
    last_fetched    BIGINT NOT NULL DEFAULT 0,
    last_inserted   BIGINT NOT NULL DEFAULT 0,
    last_updated    BIGINT NOT NULL DEFAULT 0,
    last_deleted    BIGINT NOT NULL DEFAULT 0
);

-- Contact resolution: one row per resolution key (license number, PTS agent id, or normalised
-- name + firm) with the entity id it was given the first time it was seen. Keys are never
-- deleted, so the same person or firm keeps its entity_id across runs, full re-ingests and
-- even after disappearing from the data for a while.
CREATE TABLE entity_keys (
    resolution_key TEXT COLLATE "C" PRIMARY KEY,    -- 'L:<license>' | 'P:<pts id>' | 'N:<NAME>|<FIRM>'
    entity_id      INTEGER NOT NULL,
    first_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX entity_keys_entity_id_idx ON entity_keys (entity_id);

-- New entity ids. The nightly moves it past max(entities.entity_id, entity_keys.entity_id)
-- before drawing from it, so ids given by other writers (sfp-seed) are never reused.
CREATE SEQUENCE entity_id_seq AS INTEGER;

-- Incremental contact resolution looks at contacts without an entity yet.
CREATE INDEX contacts_unresolved_idx ON contacts (id) WHERE entity_id IS NULL;
