-- 009 the ops console: its reads are keyset pages ordered by (time, id), newest first, optionally narrowed by worker,
-- rule or decision (control/audit-routes.ts), and an inbox of pending approvals newest first. These indexes let a
-- page stop after its rows instead of sorting the table (bench/console.ts: 100k audit rows).
CREATE INDEX docker_audit_at_id ON docker_audit (at DESC, id DESC);
CREATE INDEX docker_audit_rule_at ON docker_audit (rule, at DESC, id DESC);
CREATE INDEX docker_audit_decision_at ON docker_audit (decision, at DESC, id DESC);
CREATE INDEX docker_audit_approval ON docker_audit (approval_id) WHERE approval_id IS NOT NULL;
CREATE INDEX approvals_status_requested ON approvals (status, requested_at DESC);
CREATE INDEX claims_logged_id ON claims (logged_at DESC, id DESC);
CREATE INDEX instructions_decided_id ON instructions (decided_at DESC, id DESC);
CREATE INDEX output_validations_created_id ON output_validations (created_at DESC, id DESC);

-- Text search over what ops look for in a call (its path, route, rule, reason, approver, argv), in one lowercase
-- column so one index serves it. A trigram index where Postgres has pg_trgm (Debian's does); PGlite loads no
-- extension here, so embedded mode searches by scanning (its audit tables are a single machine's).
ALTER TABLE docker_audit ADD COLUMN search text GENERATED ALWAYS AS (
  lower(path || ' ' || route || ' ' || rule || ' ' || coalesce(reason, '') || ' ' || coalesce(approved_by, '') || ' ' || coalesce(argv::text, ''))
) STORED;
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX docker_audit_search_trgm ON docker_audit USING gin (search gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'wingman: pg_trgm unavailable (%); audit text search scans the table', SQLERRM;
END
$$;
