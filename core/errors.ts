// One table of coded errors. Callers branch on `.code`, never on message text.
// `status` is the HTTP status every surface answers with for this code (control and the sidecar through
// core/http/error-handler.ts, the proxy through proxy/reject.ts); `message` is what the client reads, followed by
// the detail of the case. docs/errors.md says what each code means and what to do (test/errors-doc.test.ts keeps
// the two in step).

export const ERRORS = {
  WGM_ERR_CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  WGM_ERR_CONFIG_POLICY_FILE: { status: 500, message: 'invalid policy file' },
  WGM_ERR_STORE_UNAVAILABLE: { status: 503, message: 'store unavailable' },
  WGM_ERR_STORE_MIGRATION: { status: 500, message: 'migration failed' },
  WGM_ERR_STORE_DATA_DIR_IN_USE: { status: 409, message: 'data directory in use' },
  WGM_ERR_BUS_UNAVAILABLE: { status: 503, message: 'event bus unavailable' },
  WGM_ERR_PROXY_BAD_PATH: { status: 400, message: 'malformed request path' },
  WGM_ERR_PROXY_BAD_BODY: { status: 400, message: 'malformed request body' },
  WGM_ERR_PROXY_BODY_TYPE: { status: 400, message: 'wrong type in request body' },
  WGM_ERR_PROXY_BODY_TOO_LARGE: { status: 413, message: 'request body too large to inspect' },
  WGM_ERR_PROXY_FORBIDDEN: { status: 403, message: 'forbidden by policy' },
  WGM_ERR_PROXY_DENIED: { status: 403, message: 'denied' },
  WGM_ERR_PROXY_UPSTREAM: { status: 502, message: 'docker engine unreachable' },
  WGM_ERR_PROXY_NOT_FOUND: { status: 404, message: 'no such object' },
  WGM_ERR_PROXY_PROTOCOL: { status: 400, message: 'unsupported protocol' },
  WGM_ERR_PROXY_HEADERS_TIMEOUT: { status: 408, message: 'request headers not received in time' },
  // 499 (nginx's "client closed request"): nobody reads it, the caller is gone; it is what the audit row records.
  WGM_ERR_PROXY_CALLER_GONE: { status: 499, message: 'the caller went away while its call was held' },
  WGM_ERR_PROXY_NOT_OWNER: { status: 403, message: 'not this worker\'s object' },
  WGM_ERR_PROXY_UNSUPPORTED_BODY: { status: 415, message: 'body encoding not accepted' },
  WGM_ERR_PROXY_TOO_MANY_PENDING: { status: 429, message: 'too many held calls for this worker' },
  WGM_ERR_PROXY_TOO_MANY_CONNECTIONS: { status: 429, message: 'too many open connections for this worker' },
  WGM_ERR_PROXY_BUSY: { status: 503, message: 'the proxy is at its connection limit' },
  WGM_ERR_AUDIT_UNAVAILABLE: { status: 503, message: 'the audit log cannot be written' },
  WGM_ERR_APPROVAL_NOT_FOUND: { status: 404, message: 'approval not found' },
  WGM_ERR_APPROVAL_NOT_PENDING: { status: 409, message: 'approval is not pending' },
  WGM_ERR_APPROVAL_EXPIRED: { status: 403, message: 'approval expired' },
  WGM_ERR_APPROVAL_MISMATCH: { status: 403, message: 'approval does not match this operation' },
  WGM_ERR_APPROVAL_USED: { status: 403, message: 'approval already used' },
  WGM_ERR_APPROVAL_TOKEN_UNKNOWN: { status: 403, message: 'approval token not recognised' },
  WGM_ERR_APPROVAL_NOT_APPROVED: { status: 403, message: 'approval is not approved' },
  WGM_ERR_APPROVAL_IMAGE_CHANGED: { status: 409, message: 'the image changed since it was approved' },
  WGM_ERR_APPROVAL_UNAUTHORIZED: { status: 403, message: 'not an allowed approver' },
  WGM_ERR_API_UNAUTHORIZED: { status: 401, message: 'missing or invalid bearer token' },
  WGM_ERR_API_BAD_REQUEST: { status: 400, message: 'bad request' },
  WGM_ERR_API_NOT_FOUND: { status: 404, message: 'not found' },
  WGM_ERR_API_CONFLICT: { status: 409, message: 'conflict' },
  WGM_ERR_API_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  WGM_ERR_API_BODY_TOO_LARGE: { status: 413, message: 'request body too large' },
  WGM_ERR_API_ORIGIN: { status: 403, message: 'request from another origin' },
  WGM_ERR_WORKER_INVALID: { status: 400, message: 'invalid worker name' },
  WGM_ERR_WORKER_LOCKED: { status: 423, message: 'worker is locked down' },
  WGM_ERR_GATE_INVALID: { status: 400, message: 'invalid instruction' },
  WGM_ERR_CLAIM_INVALID: { status: 400, message: 'invalid claim' },
  WGM_ERR_CLAIM_NOT_FOUND: { status: 404, message: 'claim not found' },
  WGM_ERR_CLAIM_VERIFY_UNAVAILABLE: { status: 503, message: 'claim verification unavailable' },
  WGM_ERR_CLAIM_CONTAINER_MISSING: { status: 404, message: 'worker container not found' },
  WGM_ERR_VALIDATION_INVALID: { status: 400, message: 'invalid validation request' },
  WGM_ERR_GRANT_LIMIT: { status: 429, message: 'too many approval requests pending for this worker' },
  WGM_ERR_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class WingmanError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, detail?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    const base = ERRORS[code];
    super(detail ? `${base.message}: ${detail}` : base.message, options);
    this.name = 'WingmanError';
    this.code = code;
    this.statusCode = base.status;
    this.details = details;
  }
}

export function wingmanError(
  code: ErrorCode,
  detail?: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): WingmanError {
  return new WingmanError(code, detail, details, cause === undefined ? undefined : { cause });
}

export function isWingmanError(err: unknown, code?: ErrorCode): err is WingmanError {
  return err instanceof WingmanError && (code === undefined || err.code === code);
}
