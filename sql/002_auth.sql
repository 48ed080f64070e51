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
    display_name  text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean NOT NULL DEFAULT false
);

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
    at        timestamptz NOT NULL,
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
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE freezes (
    target     text PRIMARY KEY,          -- 'org:<id>' or 'tx:<hex>'
    reason     text NOT NULL,
    frozen_leaf bigint NOT NULL           -- the core freeze tx
);
