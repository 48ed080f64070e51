-- People and machines: accounts, roles per organisation, sessions, API tokens, custodial keys,
-- the hash-chained audit log, and freezes. Secrets are stored hashed (passwords: Argon2id;
-- session ids and tokens: SHA-256 of 32 random bytes) or sealed (private keys: secretbox under
-- the node master key). Nothing here is needed to verify the ledger.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,          -- crypto_pwhash_str (Argon2id)
    node_role     text CHECK (node_role IN ('admin', 'regulator')), -- NULL for everyone else
    principal     text REFERENCES principals (id), -- an individual's own ledger identity
    pending_principal text,               -- signed up, principal.register not yet on the ledger
    pending_key   bytea,                  -- the key that registration must carry
    display_name  text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean NOT NULL DEFAULT false
);
CREATE INDEX users_pending ON users (pending_principal) WHERE pending_principal IS NOT NULL;

-- An individual who signed up with a key of their own submits principal.register themselves;
-- the account is linked the moment the block that registers that key commits (inside the
-- block's transaction, so the link and the ledger never disagree). Someone else registering
-- the same id with another key links nothing.
CREATE FUNCTION users_link_principal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET principal = NEW.principal, pending_principal = NULL, pending_key = NULL
     WHERE pending_principal = NEW.principal AND pending_key = NEW.pubkey;
    RETURN NULL;
END $$;
CREATE TRIGGER keys_link_principal AFTER INSERT ON keys
    FOR EACH ROW EXECUTE FUNCTION users_link_principal();

CREATE TABLE roles (
    user_id    bigint NOT NULL REFERENCES users (id),
    org        text NOT NULL REFERENCES principals (id),
    role       text NOT NULL CHECK (role IN ('org_admin', 'issuer', 'clerk', 'registrar',
                                             'fund_manager', 'auditor', 'market_operator',
                                             'member')),
    granted_by bigint REFERENCES users (id),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, org, role)
);
CREATE INDEX roles_org ON roles (org);

CREATE TABLE sessions (
    id_hash    bytea PRIMARY KEY,         -- SHA-256 of the cookie value
    user_id    bigint NOT NULL REFERENCES users (id),
    csrf       text NOT NULL,             -- compared in constant time
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,    -- SHA-256 of the token
    name        text NOT NULL,
    user_id     bigint NOT NULL REFERENCES users (id), -- who made it
    org         text NOT NULL REFERENCES principals (id),
    role        text NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE custody_keys (
    pubkey     bytea PRIMARY KEY,         -- as on the ledger
    principal  text NOT NULL,
    sealed     bytea NOT NULL,            -- nonce || secretbox(seed) under the master key
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz                -- after rotation: kept, never used to sign again
);
CREATE INDEX custody_keys_principal ON custody_keys (principal);

CREATE TABLE audit_log (
    id        bigint PRIMARY KEY,         -- 1, 2, 3 … without gaps
    at_ms     bigint NOT NULL,            -- Unix ms (an integer, so the hash is reproducible)
    username  text NOT NULL,              -- '' for anonymous
    org       text NOT NULL,
    role      text NOT NULL,
    method    text NOT NULL,
    route     text NOT NULL,              -- the route pattern
    target    text NOT NULL,              -- the path asked for
    status    integer NOT NULL,
    tx_id     text NOT NULL,              -- hex, '' when none
    client    text NOT NULL,              -- client address
    prev_hash bytea NOT NULL,             -- hash of row id - 1 (32 zero bytes for id 1)
    hash      bytea NOT NULL              -- SHA-256(prev_hash || JCS of the fields above)
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_username ON audit_log (username, id);
CREATE INDEX audit_log_org ON audit_log (org, id);

-- Audit log heads anchored on the ledger (core audit.anchor txs), derived from the log like
-- principals and keys: the rule "head_id increasing" is one lookup.
CREATE TABLE audit_anchors (
    head_id    bigint PRIMARY KEY,        -- audit_log.id anchored
    head_hash  bytea NOT NULL,            -- its hash as the tx states it
    leaf_index bigint NOT NULL            -- the audit.anchor tx
);

-- Active freezes (core freeze/unfreeze txs): an unfreeze deletes the row; the ledger keeps
-- the history.
CREATE TABLE freezes (
    target       text PRIMARY KEY,        -- 'org:<id>' or 'tx:<hex>'
    reason       text NOT NULL,
    frozen_by    text NOT NULL,           -- the org of the freeze tx ("admin" or a regulator)
    frozen_leaf  bigint NOT NULL,         -- the core freeze tx
    frozen_at_ms bigint NOT NULL          -- its block's time, Unix ms
);
