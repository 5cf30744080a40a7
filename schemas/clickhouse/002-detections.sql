-- One row per detection_id (deterministic, so a replay or a redelivery never adds a second row).
CREATE TABLE IF NOT EXISTS ${database}.detections
(
    detection_id       String,
    detector           LowCardinality(String),
    severity           LowCardinality(String),
    score              Float64,
    confirmed          Bool,
    subject            String,
    session_id         String,
    token_fp           String,
    summary            String,
    event_ids          Array(String),
    evidence           String,
    first_malicious_ts DateTime64(3, 'UTC'),
    detected_ts        DateTime64(3, 'UTC'),
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY detection_id
TTL toDateTime(detected_ts) + INTERVAL ${retention_days} DAY
