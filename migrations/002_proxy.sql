-- Approvals (mutable status), their event log and the Docker execution audit (both append-only).

CREATE TABLE approvals (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  worker        text NOT NULL,
  rule          text NOT NULL,
  summary       text NOT NULL,
  method        text NOT NULL,
  route         text NOT NULL,
  path          text NOT NULL,
  op_hash       text NOT NULL,
  op            jsonb NOT NULL,
  reasons       jsonb NOT NULL DEFAULT '[]',
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'consumed', 'cancelled')),
  source        text NOT NULL DEFAULT 'proxy',
  token_hash    text UNIQUE,
  required_approvals integer NOT NULL DEFAULT 1,
  approvers     text[] NOT NULL DEFAULT '{}',
  requested_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  decided_at    timestamptz,
  decided_by    text,
  note          text,
  consumed_at   timestamptz
);
CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
CREATE INDEX approvals_worker ON approvals (worker, requested_at DESC);

CREATE TABLE approval_events (
  id           bigserial PRIMARY KEY,
  approval_id  uuid NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  event        text NOT NULL,
  actor        text,
  op_hash      text,
  detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX approval_events_approval ON approval_events (approval_id, id);
SELECT wingman_make_append_only('approval_events');

CREATE TABLE docker_audit (
  id           uuid PRIMARY KEY,
  at           timestamptz NOT NULL,
  worker       text NOT NULL,
  method       text NOT NULL,
  route        text NOT NULL,
  path         text NOT NULL,
  rule         text NOT NULL,
  decision     text NOT NULL,
  mode         text NOT NULL,
  would        text,
  approval_id  uuid,
  approved_by  text,
  status_code  integer,
  duration_ms  double precision,
  bytes_in     bigint NOT NULL DEFAULT 0,
  bytes_out    bigint NOT NULL DEFAULT 0,
  reason       text,
  argv         jsonb
);
CREATE INDEX docker_audit_worker_at ON docker_audit (worker, at DESC);
SELECT wingman_make_append_only('docker_audit');
