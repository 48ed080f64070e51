-- The edu module (modules/edu/README.md): verifiable diplomas, degree certificates, transcripts
-- and certificates of completion.

-- Derived from the ledger, like principals and keys: one row per edu credential.issue tx,
-- completed by its credential.revoke. Holds no personal data; rebuilt from the log alone.
CREATE TABLE edu_anchors (
    credential_id text PRIMARY KEY,       -- "urn:uuid:…", as in the credential and the tx
    hash          bytea NOT NULL UNIQUE,  -- SHA-256(JCS(secured credential)), as anchored
    org           text NOT NULL,          -- the issuing university (the tx's org)
    kind          text NOT NULL,          -- diploma, degree, transcript, completion
    tx_id         bytea NOT NULL,         -- the credential.issue tx
    leaf_index    bigint NOT NULL,
    issued_ms     bigint NOT NULL,        -- its block's time
    revoked_ms    bigint,                 -- the credential.revoke's block time, NULL if none
    revoke_reason text,                   -- as the revoke tx states it (not personal data)
    revoke_tx_id  bytea,
    revoke_leaf   bigint
);
CREATE INDEX edu_anchors_org ON edu_anchors (org);

-- The documents, kept for the people involved: personal data, not needed by any verifier.
-- Erasing a credential clears the subject columns and the document; the anchor stays, and the
-- student's copy still verifies.
CREATE TABLE edu_credentials (
    seq            bigserial UNIQUE,      -- listing order and paging cursor
    id             uuid PRIMARY KEY,      -- the credential's urn:uuid
    org            text NOT NULL,         -- issuing university
    kind           text NOT NULL,
    student        text,                  -- the student's principal (account), when linked
    subject_name   text,                  -- for search; NULL once erased
    student_number text,                  -- for search; NULL once erased
    document       bytea,                 -- nonce || secretbox(JCS(credential)) under a key
                                          -- derived from the node master key; NULL once erased
    issued_by      text NOT NULL,         -- the account that issued it
    created_ms     bigint NOT NULL,
    erased_ms      bigint
);
CREATE INDEX edu_credentials_org ON edu_credentials (org, seq);
CREATE INDEX edu_credentials_student ON edu_credentials (student, seq) WHERE student IS NOT NULL;
CREATE INDEX edu_credentials_number ON edu_credentials (student_number);

-- Share links a student (or the issuer) hands out: the token is shown once and stored hashed.
CREATE TABLE edu_shares (
    id            bigserial PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE,  -- SHA-256 of the token
    credential_id uuid NOT NULL REFERENCES edu_credentials (id),
    created_by    bigint NOT NULL REFERENCES users (id),
    created_ms    bigint NOT NULL,
    expires_ms    bigint NOT NULL,
    withdrawn_ms  bigint
);
CREATE INDEX edu_shares_credential ON edu_shares (credential_id);
