-- The ledger: blocks with their signed checkpoints, the txs (leaves) in log order, and the
-- hash of every perfect Merkle subtree so that any proof needs O(log n) rows.

CREATE TABLE chain_meta (
    key   text PRIMARY KEY,          -- origin, genesis facts
    value text NOT NULL
);

CREATE TABLE blocks (
    height     bigint PRIMARY KEY,   -- 0 is genesis
    first_leaf bigint NOT NULL,      -- leaf index of the block's first tx
    n_txs      integer NOT NULL,     -- txs in the block
    tree_size  bigint NOT NULL,      -- log size after the block
    root       bytea NOT NULL,       -- RFC 6962 root at tree_size
    time_ms    bigint NOT NULL,      -- block time, Unix ms
    checkpoint text NOT NULL,        -- signed note (DESIGN §3.2)
    CHECK (tree_size = first_leaf + n_txs)
);

CREATE TABLE txs (
    leaf_index bigint PRIMARY KEY,   -- position in the log
    tx_id      bytea NOT NULL UNIQUE, -- RFC 6962 leaf hash of leaf
    height     bigint NOT NULL,      -- block
    module     text NOT NULL,
    type       text NOT NULL,
    org        text NOT NULL,
    signer     bytea NOT NULL,       -- Ed25519 public key
    time_ms    bigint NOT NULL,      -- tx time
    leaf       bytea NOT NULL        -- JCS of the signed envelope
);
CREATE INDEX txs_height ON txs (height);
CREATE INDEX txs_signer ON txs (signer);

CREATE TABLE merkle_nodes (
    level smallint NOT NULL,         -- 0 = leaf hash
    idx   bigint NOT NULL,           -- covers leaves [idx * 2^level, (idx + 1) * 2^level)
    hash  bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Identity state derived from core txs (genesis, org.register, principal.register, key.add,
-- key.revoke). The ledger is the truth; these rows make "who may sign" a single lookup.
CREATE TABLE principals (
    id         text PRIMARY KEY,     -- "admin", an org id, or an individual's id
    kind       text NOT NULL CHECK (kind IN ('admin', 'org', 'individual')),
    type       text NOT NULL,        -- university, court, ... / student, donor, ...
    name       text NOT NULL DEFAULT '',
    leaf_index bigint NOT NULL       -- the tx that registered it
);

CREATE TABLE keys (
    pubkey       bytea PRIMARY KEY,  -- Ed25519 public key; a key belongs to one principal, ever
    principal    text NOT NULL REFERENCES principals (id),
    added_leaf   bigint NOT NULL,    -- tx that registered it
    revoked_leaf bigint              -- tx that revoked it; NULL while active
);
CREATE INDEX keys_principal ON keys (principal);
