-- No planner statistics for txs.leaf, the tx's bytes.
--
-- No query filters, joins or sorts on the leaf, so its statistics are never read; gathering
-- them was half of every ANALYZE of txs (494 ms of 30,000 sampled rows at 250,000 leaves, 256
-- without), and the node runs one each time a young ledger doubles while autovacuum runs more
-- as it grows (issue 8). A target of 0 skips the column; the others keep the default.
ALTER TABLE txs ALTER COLUMN leaf SET STATISTICS 0;
