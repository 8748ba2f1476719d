// Fixed values of the control API, shared by the server, the CLI and the console (no imports: safe in a browser).
export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'consumed', 'cancelled'] as const;
/** what the proxy records for a call (docker_audit.decision): the console's filter choices; the API takes any label */
export const AUDIT_DECISIONS = ['allow', 'approved', 'deny', 'denied', 'expired', 'cancelled', 'invalid', 'shadow_approve', 'shadow_deny'] as const;
export const VERDICTS = ['TRUE', 'FALSE', 'UNVERIFIABLE'] as const;
export const GATE_DECISIONS = ['APPROVED', 'REJECTED'] as const;
export const VALIDATION_DECISIONS = ['AUTO_APPROVE', 'AUTO_REJECT', 'MANUAL_REVIEW'] as const;
/** the topics GET /events passes on */
export const STREAM_TOPICS = [
  'approval.requested',
  'approval.decided',
  'approval.updated',
  'worker.locked',
  'worker.unlocked',
  'worker.heartbeat',
  'worker.added',
  'docker.executed',
  'claim.verified',
  'gate.decided',
  'validation.decided',
] as const;
