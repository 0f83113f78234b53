-- Issue 14: the raw query table's foreign key to enterprise.connectors ran its RI trigger on every inserted row
-- (a FOR KEY SHARE lock of the connector's row per row: about a third of a priced window's INSERT, measured with
-- EXPLAIN ANALYZE). The same guarantee is now taken once per loaded window (decisions.md §32):
--   * the loader locks the connector's row FOR KEY SHARE in the window's transaction (repositories/cost_sync.py
--     `lock_connector`), so a connector deleted before or during the window fails the load, as the key did;
--   * a connector's rows go with it, as ON DELETE CASCADE did, by the trigger below (owned by the migrating user,
--     so the API role, which deletes connectors, needs no DELETE on the raw table).
-- The other tables keep their foreign keys: their loads are small.

ALTER TABLE enterprise.snowflake_query_history DROP CONSTRAINT snowflake_query_history_connector_id_fkey;

CREATE FUNCTION enterprise.delete_connector_queries() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM enterprise.snowflake_query_history WHERE connector_id = OLD.id;
    RETURN OLD;
END
$$;
REVOKE ALL ON FUNCTION enterprise.delete_connector_queries() FROM PUBLIC;

CREATE TRIGGER connectors_delete_queries AFTER DELETE ON enterprise.connectors
    FOR EACH ROW EXECUTE FUNCTION enterprise.delete_connector_queries();
