-- The route of the event that triggered a detection (schemas/detection.avsc `route`), '' when it had none, as
-- for the other optional strings. A migration of its own so that existing tables gain the column: 002 only
-- creates the table when it is missing.
ALTER TABLE ${database}.detections ADD COLUMN IF NOT EXISTS route String DEFAULT '' AFTER token_fp
