-- 006 output validations (the original plan's phase 6.1 number): one row per validation, mutable only to attach
-- the approval a MANUAL_REVIEW decision opens. Findings are stored as the validator returned them (already redacted).
CREATE TABLE output_validations (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  worker           text,
  source           text NOT NULL CHECK (source IN ('sidecar', 'api')),
  instruction_id   uuid,
  decision         text NOT NULL CHECK (decision IN ('AUTO_APPROVE', 'AUTO_REJECT', 'MANUAL_REVIEW')),
  score            integer NOT NULL CHECK (score BETWEEN 0 AND 100),
  blocking_issues  jsonb NOT NULL DEFAULT '[]',
  findings         jsonb NOT NULL DEFAULT '[]',
  validators       jsonb NOT NULL DEFAULT '{}',
  files            jsonb NOT NULL DEFAULT '[]',
  approval_id      uuid REFERENCES approvals (id),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX output_validations_worker ON output_validations (worker, created_at DESC);
