-- 003 Telegram: the outbox every message to Telegram goes through first, and the opaque nonces behind the
-- Approve / Deny buttons.

-- One row per message Wingman sends (sendMessage) or changes (editMessageText). Rows are delivered strictly in id
-- order: only the lowest unfinished row may be claimed, so two control processes can never send concurrently or
-- out of order. status: pending → sending (claimed, lease_until) → sent | failed | skipped; a 'sending' row whose
-- lease lapsed (its process died mid-send) is claimed again.
CREATE TABLE telegram_outbox (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL,
  dedupe_key      text NOT NULL UNIQUE,
  method          text NOT NULL CHECK (method IN ('sendMessage', 'editMessageText')),
  chat_id         text NOT NULL,
  payload         jsonb NOT NULL,
  -- editMessageText: the row whose message this edits (always a lower id, so it is finished first)
  edit_of         bigint REFERENCES telegram_outbox (id),
  approval_id     uuid,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_by      text,
  lease_until     timestamptz,
  last_error      text,
  enqueued_at     timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  message_id      bigint,
  CHECK (method <> 'editMessageText' OR (edit_of IS NOT NULL AND edit_of < id)),
  CHECK (status <> 'sent' OR (sent_at IS NOT NULL AND message_id IS NOT NULL)),
  CHECK (status <> 'sending' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL))
);
CREATE INDEX telegram_outbox_unfinished ON telegram_outbox (id) WHERE status IN ('pending', 'sending');
CREATE INDEX telegram_outbox_message ON telegram_outbox (chat_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX telegram_outbox_approval ON telegram_outbox (approval_id) WHERE approval_id IS NOT NULL;

-- callback_data of an approval button: a random nonce, meaningless outside this table.
CREATE TABLE telegram_callbacks (
  nonce        text PRIMARY KEY CHECK (octet_length(nonce) BETWEEN 16 AND 64),
  approval_id  uuid NOT NULL REFERENCES approvals (id),
  decision     text NOT NULL CHECK (decision IN ('approve', 'deny')),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telegram_callbacks_approval ON telegram_callbacks (approval_id);
