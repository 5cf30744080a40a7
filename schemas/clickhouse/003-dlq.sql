-- Rejected input, already scrubbed of credentials by the collector. dlq_id hashes origin and input,
-- so a re-shipped file does not double the rows.
CREATE TABLE IF NOT EXISTS ${database}.dlq
(
    dlq_id      String,
    code        LowCardinality(String),
    reason      String,
    origin      String,
    format      LowCardinality(String),
    input       String,
    input_bytes UInt64,
    ts          DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY dlq_id
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
