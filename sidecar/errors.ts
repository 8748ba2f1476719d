// The sidecar's error answers: coded errors with their status, client mistakes as 400 (never echoing the body: a
// JSON parse error message quotes the start of the input, which may be a secret), store outages as 503, and
// anything else as a logged 500 without details.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isWingmanError } from '../core/errors.js';

export function sidecarErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (isWingmanError(err)) {
    if (err.statusCode >= 500) req.log.warn({ code: err.code, err: err.message }, 'request failed');
    return reply.status(err.statusCode).send({ message: err.message, code: err.code, ...(err.details?.reason ? { reason: err.details.reason } : {}) });
  }
  const code = (err as { code?: string }).code ?? '';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply.status(415).send({ message: 'send application/json (or text/markdown for /check)', code: 'WGM_ERR_API_BAD_REQUEST' });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.status(413).send({ message: 'request body too large', code: 'WGM_ERR_API_BAD_REQUEST' });
  }
  if (err instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return reply.status(400).send({ message: 'request body is not valid JSON', code: 'WGM_ERR_API_BAD_REQUEST' });
  }
  if (err.validation || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
    return reply.status(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({
      message: err.validation ? err.message : 'bad request',
      code: 'WGM_ERR_API_BAD_REQUEST',
    });
  }
  req.log.error({ err: err.message }, 'unhandled error');
  return reply.status(500).send({ message: 'internal error', code: 'WGM_ERR_INTERNAL' });
}
