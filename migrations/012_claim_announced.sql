-- 012 claim.verified announced durably: a verdict's queue row is done in the verdict's own transaction, but the
-- claim.verified event is published after the commit. If that publish failed (Redis away, the bus closing with its
-- sidecar, the commit answer lost with the connection while the verify loop stopped), nobody announced the verdict:
-- a FALSE verdict nobody is alerted to. announced_at is set once the event is out; a verify loop republishes done rows
-- that stayed unannounced (at least once; consumers key on claim_id). Rows done before this migration count as
-- announced.
ALTER TABLE claim_queue ADD COLUMN announced_at timestamptz;
UPDATE claim_queue SET announced_at = updated_at WHERE status = 'done';
CREATE INDEX claim_queue_unannounced ON claim_queue (worker, updated_at) WHERE status = 'done' AND announced_at IS NULL;
