-- Every approval a held call waits on names its waiter (the proxy run holding the call) and when that waiter last
-- said it is still there. An approval whose waiter is gone is cancelled, and cannot be approved.
ALTER TABLE approvals ADD COLUMN waiter text;
ALTER TABLE approvals ADD COLUMN waiter_seen_at timestamptz;
CREATE INDEX approvals_pending_waiter ON approvals (waiter) WHERE status = 'pending';
