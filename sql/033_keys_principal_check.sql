-- The rule "a key names a principal that exists", checked once per statement instead of once
-- per row (issue 8).
--
-- As a foreign key, PostgreSQL checked every inserted key with its own SELECT … FOR KEY SHARE
-- of the principal, which also locks that row: about 6 µs of the database's time per key, 5 %
-- of a tx's whole cost in batches of self-registrations. The same rule now runs over each
-- statement's transition tables:
--   * a statement that inserts or updates keys fails if any of them names a missing principal;
--   * a statement that deletes principals, or changes their id, fails if a key still names one.
-- Both fail with SQLSTATE 23503, as the foreign key did. The row locks the foreign key took
-- guarded against concurrent writers; the ledger tables have one writer, the sequencer, whose
-- rules already refuse such a key before it reaches the database.
ALTER TABLE keys DROP CONSTRAINT keys_principal_fkey;

-- One call per statement that writes keys: the check, then (for an insert) the linking of
-- signed-up accounts that 032 did. The OFFSET 0 keeps each probe a look-up in principals'
-- primary key: as an anti-join the planner could choose to scan all of principals for a large
-- block.
CREATE FUNCTION keys_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT k.principal INTO missing FROM new_keys k
     WHERE NOT EXISTS (SELECT 1 FROM principals p WHERE p.id = k.principal OFFSET 0)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a key names principal "%", which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE users u SET principal = k.principal, pending_principal = NULL, pending_key = NULL
          FROM new_keys k
         WHERE u.pending_principal = k.principal AND u.pending_key = k.pubkey;
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER keys_link_principals ON keys;
DROP FUNCTION users_link_principals();
CREATE TRIGGER keys_inserted AFTER INSERT ON keys
    REFERENCING NEW TABLE AS new_keys
    FOR EACH STATEMENT EXECUTE FUNCTION keys_written();
CREATE TRIGGER keys_updated AFTER UPDATE ON keys
    REFERENCING NEW TABLE AS new_keys
    FOR EACH STATEMENT EXECUTE FUNCTION keys_written();

CREATE FUNCTION principals_check_keys() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    named text;
BEGIN
    SELECT o.id INTO named FROM old_principals o
     WHERE EXISTS (SELECT 1 FROM keys k WHERE k.principal = o.id OFFSET 0)
       AND NOT EXISTS (SELECT 1 FROM principals p WHERE p.id = o.id OFFSET 0)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'principal "%" is still named by a key', named
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER principals_deleted AFTER DELETE ON principals
    REFERENCING OLD TABLE AS old_principals
    FOR EACH STATEMENT EXECUTE FUNCTION principals_check_keys();
CREATE TRIGGER principals_updated AFTER UPDATE ON principals
    REFERENCING OLD TABLE AS old_principals
    FOR EACH STATEMENT EXECUTE FUNCTION principals_check_keys();
