-- 005 the watcher: which container a worker runs in (for lockdown), its sidecar's last heartbeat, the lockdown
-- log and the alert log (both append-only), and per-worker alert grouping state (mutable).

ALTER TABLE workers ADD COLUMN container text;
ALTER TABLE workers ADD COLUMN last_heartbeat_at timestamptz;

CREATE TABLE lockdown_events (
  id         bigserial PRIMARY KEY,
  worker     text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  action     text NOT NULL CHECK (action IN ('locked', 'unlocked', 'container_paused', 'container_stopped',
                                             'container_unpaused', 'container_started', 'container_action_failed',
                                             'container_unknown')),
  actor      text NOT NULL,
  reason     text,
  claim_id   uuid,
  detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX lockdown_events_worker ON lockdown_events (worker, id);
SELECT wingman_make_append_only('lockdown_events');

CREATE TABLE alerts (
  id          bigserial PRIMARY KEY,
  dedupe_key  text NOT NULL UNIQUE,
  worker      text NOT NULL,
  severity    text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  kind        text NOT NULL CHECK (kind IN ('false_claim', 'heartbeat_lost', 'gate_rejections', 'unverifiable_digest', 'grouped')),
  -- when the event behind the alert happened (the verdict's time): alert latency is measured from here
  source_at   timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- true when the message was folded into a later group summary instead of being sent on its own
  grouped     boolean NOT NULL DEFAULT false,
  text        text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_worker ON alerts (worker, id);
SELECT wingman_make_append_only('alerts');

CREATE TABLE alert_groups (
  worker            text PRIMARY KEY,
  last_sent_at      timestamptz,
  summarized_upto   bigint NOT NULL DEFAULT 0
);
