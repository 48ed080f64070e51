-- A leaner ledger (issue 8: at most 1 KiB per 300-byte tx, proofs' hashes included).
--
-- merkle_nodes keeps only perfect subtrees of level 6 and up (64 leaves and more): a lower
-- node is hashed again from at most 63 leaf hashes, which txs.tx_id already holds, read with
-- one range scan of txs' primary key (server/nodes.h). That is one stored node per 32 leaves
-- instead of two per leaf.
DELETE FROM merkle_nodes WHERE level < 6;
ALTER TABLE merkle_nodes ADD CHECK (level >= 6);

-- The leaves of a tile come from an index-only scan: the primary key carries the leaf hash.
ALTER TABLE txs DROP CONSTRAINT txs_pkey, ADD CONSTRAINT txs_pkey PRIMARY KEY (leaf_index) INCLUDE (tx_id);

-- Nothing looks txs up by signer or by height (a block's txs are a leaf range).
DROP INDEX txs_signer;
DROP INDEX txs_height;
