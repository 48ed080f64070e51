-- The evidence module (modules/evidence/README.md): judicial evidence preservation, chain of
-- custody and machine anchoring.

-- Derived from the ledger: one row per evidence item.preserve tx, its state moved by the custody
-- txs. Holds no personal data; rebuilt from the log alone.
CREATE TABLE evidence_ledger_items (
    item_id     text PRIMARY KEY,          -- "urn:uuid:…", as in the tx
    sha256      bytea NOT NULL,            -- the file's hash, as anchored
    org         text NOT NULL,             -- the institution that preserved it (the tx's org)
    kind        text NOT NULL,
    tx_id       bytea NOT NULL,
    leaf_index  bigint NOT NULL,
    height      bigint NOT NULL,
    anchored_ms bigint NOT NULL,           -- its block's time
    state       text NOT NULL,             -- preserved, or the last custody event
    state_leaf  bigint NOT NULL            -- the tx that set the state
);
CREATE INDEX evidence_ledger_items_sha256 ON evidence_ledger_items (sha256);

-- Every custody tx, in ledger order.
CREATE TABLE evidence_events (
    item_id     text NOT NULL REFERENCES evidence_ledger_items (item_id),
    event       text NOT NULL,             -- collected, sealed, transferred, examined, presented,
                                           -- returned, destroyed
    org         text NOT NULL,             -- who recorded it (the tx's org)
    from_holder text,                      -- transferred: from
    to_holder   text,                      -- transferred: to
    report_sha256 bytea,                   -- examined: the expert report's hash
    tx_id       bytea NOT NULL UNIQUE,
    leaf_index  bigint NOT NULL,
    height      bigint NOT NULL,
    at_ms       bigint NOT NULL            -- its block's time
);
CREATE INDEX evidence_events_item ON evidence_events (item_id, leaf_index);

-- Machine anchors (anchor tx): a hash and a short label, written by COPY at block end.
CREATE TABLE evidence_anchors (
    sha256      bytea NOT NULL,
    label       text NOT NULL,
    org         text NOT NULL,
    tx_id       bytea NOT NULL,
    leaf_index  bigint NOT NULL,
    height      bigint NOT NULL,
    anchored_ms bigint NOT NULL
);
CREATE INDEX evidence_anchors_sha256 ON evidence_anchors (sha256);
CREATE INDEX evidence_anchors_org ON evidence_anchors (org, leaf_index);

-- Cases: kept for the people involved, never on the ledger.
CREATE TABLE evidence_cases (
    seq         bigserial UNIQUE,          -- listing order
    id          uuid PRIMARY KEY,
    court       text NOT NULL REFERENCES principals (id),
    number      text NOT NULL,             -- the court's case number, e.g. (2026)京0105民初123号
    title       text NOT NULL,
    parties     jsonb NOT NULL DEFAULT '[]',
    created_by  text NOT NULL,             -- the clerk's account
    created_ms  bigint NOT NULL,
    UNIQUE (court, number)
);

-- Who besides the court may work on a case: lawyers of law firms, notaries.
CREATE TABLE evidence_grants (
    case_id     uuid NOT NULL REFERENCES evidence_cases (id),
    user_id     bigint NOT NULL REFERENCES users (id),
    org         text NOT NULL REFERENCES principals (id), -- the law firm or notary office
    party       text NOT NULL DEFAULT '',  -- the party represented, as the clerk wrote it
    granted_by  text NOT NULL,
    granted_ms  bigint NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX evidence_grants_user ON evidence_grants (user_id);

-- An item's description (personal data possible), linked to its ledger row by item id.
CREATE TABLE evidence_items (
    seq            bigserial UNIQUE,
    id             uuid PRIMARY KEY,
    case_id        uuid NOT NULL REFERENCES evidence_cases (id),
    org            text NOT NULL,          -- the institution whose key anchored it
    title          text NOT NULL,
    kind           text NOT NULL,
    original_name  text NOT NULL DEFAULT '',
    size           bigint NOT NULL,
    mime           text NOT NULL DEFAULT '',
    captured_ms    bigint,
    capture_method text NOT NULL DEFAULT '',
    description    text NOT NULL DEFAULT '',
    created_by     text NOT NULL,
    created_ms     bigint NOT NULL
);
CREATE INDEX evidence_items_case ON evidence_items (case_id, seq);

-- Stored copies (optional): the file itself, encrypted at rest with crypto_secretstream under a
-- key derived from the node master key and the item id, in LIANXIN_DATA/evidence/<id>.enc.
CREATE TABLE evidence_copies (
    item_id     uuid PRIMARY KEY REFERENCES evidence_items (id),
    size        bigint NOT NULL,           -- bytes of the plain file (= the anchored size)
    stored_by   text NOT NULL,
    stored_ms   bigint NOT NULL
);
