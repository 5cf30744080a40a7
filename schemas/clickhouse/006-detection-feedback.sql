-- Analyst verdicts on detections (topic detector.feedback, schemas/detection-feedback.avsc), every one of them:
-- the topic keeps only the latest verdict per detection, this table keeps the trail of who said what when.
-- feedback_id is unique per verdict given, so a redelivered record collapses into its row. The pattern the
-- verdict saw is in the columns (networks, countries, clients of every use) and in full in `evidence` (JSON).
-- No TTL: a handful of rows per day, and the audit trail of why a pattern stopped paging is worth keeping.
CREATE TABLE IF NOT EXISTS ${database}.detection_feedback
(
    feedback_id        String,
    detection_id       String,
    verdict            LowCardinality(String),
    scope              LowCardinality(String),
    analyst            String,
    note               String,
    detector           LowCardinality(String),
    detectors          Array(String),
    subject            String,
    session_id         String,
    token_fp           String,
    detection_score    Float64,
    detection_severity LowCardinality(String),
    asns               Array(UInt32),
    prefixes           Array(String),
    countries          Array(String),
    clients            Array(String),
    evidence           String,
    ts                 DateTime64(3, 'UTC'),
    inserted_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (detection_id, feedback_id)
