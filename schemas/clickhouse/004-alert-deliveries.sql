-- Every try of the alerter to reach a webhook, PagerDuty, Slack or a response endpoint, and every decision not
-- to (suppressed, rate_limited, monitor). delivery_id includes the try's time, so a Kafka redelivery of the same
-- record collapses while a real second try after a restart is a row of its own.
CREATE TABLE IF NOT EXISTS ${database}.alert_deliveries
(
    delivery_id     String,
    incident_id     String,
    idempotency_key String,
    detection_id    String,
    detector        LowCardinality(String),
    subject         String,
    channel         LowCardinality(String),
    endpoint        LowCardinality(String),
    kind            LowCardinality(String),
    action          LowCardinality(String),
    attempt         UInt16,
    outcome         LowCardinality(String),
    status          Nullable(UInt16),
    error           String,
    duration_ms     UInt32,
    ts              DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (incident_id, ts, delivery_id)
TTL toDateTime(ts) + INTERVAL ${retention_days} DAY
