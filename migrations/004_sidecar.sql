-- 004 sidecar: gate decisions (instructions), claims, verdicts (all append-only) and the auditor's work queue.

-- One row per /check decision. Everything stored here is already redacted by the gate (core/gate): the instruction
-- text, excerpts and TEST_PROCESS never hold a secret.
CREATE TABLE instructions (
  id               uuid PRIMARY KEY,
  worker           text NOT NULL,
  decision         text NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED')),
  approved         boolean NOT NULL,
  score            integer NOT NULL CHECK (score BETWEEN 0 AND 100),
  missing_sections jsonb NOT NULL DEFAULT '[]',
  weak_sections    jsonb NOT NULL DEFAULT '[]',
  weak_reasons     jsonb NOT NULL DEFAULT '{}',
  violations       jsonb NOT NULL DEFAULT '[]',
  instruction      text NOT NULL,
  test_process     text,
  -- The sidecar's clock at the decision, not the store's: the sidecar runs on the worker's host, so this is
  -- comparable with the mtimes of the worker's files (the task start of its claims).
  decided_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (approved = (decision = 'APPROVED'))
);
CREATE INDEX instructions_worker_approved ON instructions (worker, decided_at DESC) WHERE approved;
CREATE INDEX instructions_worker_at ON instructions (worker, created_at DESC);
SELECT wingman_make_append_only('instructions');

-- One row per claim a worker logged. The id is chosen by the sidecar, so a claim spooled during a store outage
-- replays idempotently. instruction_id has no foreign key on purpose: a spooled claim must replay even when it
-- names an instruction that does not exist (its verdict then says so).
CREATE TABLE claims (
  id             uuid PRIMARY KEY,
  worker         text NOT NULL,
  instruction_id uuid,
  type           text NOT NULL CHECK (type IN ('file_created', 'file_modified', 'file_deleted', 'file_contains',
                   'process_running', 'port_listening', 'container_running', 'command_executed', 'tests_passed',
                   'compound', 'free_text')),
  params         jsonb NOT NULL DEFAULT '{}',
  source         text NOT NULL CHECK (source IN ('structured', 'text')),
  raw_text       text,
  -- when the sidecar accepted the claim (it may reach the store later, from the spool)
  logged_at      timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_worker_logged ON claims (worker, logged_at DESC);
SELECT wingman_make_append_only('claims');

-- Exactly one verdict per claim: the unique claim_id lets several auditors race safely (ON CONFLICT DO NOTHING).
CREATE TABLE verdicts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  claim_id    uuid NOT NULL UNIQUE REFERENCES claims (id),
  worker      text NOT NULL,
  claim_type  text NOT NULL,
  verdict     text NOT NULL CHECK (verdict IN ('TRUE', 'FALSE', 'UNVERIFIABLE')),
  evidence    jsonb NOT NULL DEFAULT '{}',
  reason      text NOT NULL,
  verifier    text NOT NULL,
  duration_ms double precision NOT NULL,
  verified_by text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verdicts_worker_at ON verdicts (worker, created_at DESC);
CREATE INDEX verdicts_false ON verdicts (created_at DESC) WHERE verdict = 'FALSE';
SELECT wingman_make_append_only('verdicts');

-- The auditor's work list (mutable). A claim row is inserted with its queue row in one transaction. Auditors take
-- rows with FOR UPDATE SKIP LOCKED and lease them (status running, lease_until); a lease that lapses (its sidecar
-- died mid-verification) makes the row available again. status done once the verdict is written.
CREATE TABLE claim_queue (
  claim_id        uuid PRIMARY KEY REFERENCES claims (id),
  worker          text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_by       text,
  lease_until     timestamptz,
  last_error      text,
  enqueued_at     timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'running' OR (locked_by IS NOT NULL AND lease_until IS NOT NULL))
);
CREATE INDEX claim_queue_ready ON claim_queue (worker, next_attempt_at) WHERE status <> 'done';
CREATE TRIGGER claim_queue_touch BEFORE UPDATE ON claim_queue FOR EACH ROW EXECUTE FUNCTION wingman_touch_updated_at();
