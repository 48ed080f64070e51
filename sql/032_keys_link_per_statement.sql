-- Linking a signed-up account to its principal (002_auth.sql) once per statement, not per row.
--
-- The row trigger ran a PL/pgSQL UPDATE for every key a block inserted: about 8 µs of the
-- database's time per key, a sixth of its cost per tx in batches of self-registrations
-- (issue 8). A statement trigger sees the block's new keys as one transition table and links
-- every waiting account with a single join, still inside the block's transaction. As before,
-- an account is linked only to the key it signed up with: someone else registering the same id
-- with another key links nothing.
DROP TRIGGER keys_link_principal ON keys;
DROP FUNCTION users_link_principal();

CREATE FUNCTION users_link_principals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users u SET principal = k.principal, pending_principal = NULL, pending_key = NULL
      FROM added_keys k
     WHERE u.pending_principal = k.principal AND u.pending_key = k.pubkey;
    RETURN NULL;
END $$;
CREATE TRIGGER keys_link_principals AFTER INSERT ON keys
    REFERENCING NEW TABLE AS added_keys
    FOR EACH STATEMENT EXECUTE FUNCTION users_link_principals();
