-- 0015_brief_sections.sql - indexes for the brief's predictability, team and planning sections.
--
-- Owner: brief service. Runs inside one transaction (see 0001). sfp-seed keeps these across
-- its COPY (it re-creates every non-constraint index of a bulk table from the catalog).
--
-- health (predictability): days_to_issuance of permits issued in the last 365 days, narrowest
-- comparables first (neighborhood + cost bracket + type), then cost bracket + type, then type,
-- then the review path only; each step reads only its own slice, index-only.
CREATE INDEX timeline_stats_nbhd_bracket_type_idx
    ON timeline_stats (neighborhood, cost_bracket, permit_type_definition, issued)
    INCLUDE (review_path, days_to_issuance);
CREATE INDEX timeline_stats_type_bracket_idx
    ON timeline_stats (permit_type_definition, cost_bracket, issued)
    INCLUDE (review_path, days_to_issuance);
CREATE INDEX timeline_stats_path_issued_idx
    ON timeline_stats (review_path, issued)
    INCLUDE (permit_type_definition, days_to_issuance);
-- team_activity: a watched entity's contacts and their permits.
CREATE INDEX contacts_entity_permit_idx ON contacts (entity_id, permit_number) INCLUDE (role);
-- team_activity of a busy entity starts from the permits filed since the lookback's start:
-- index-only (filed_date, permit_number) instead of a heap page per permit.
CREATE INDEX permits_filed_number_idx ON permits (filed_date) INCLUDE (permit_number);
