// The one fastify error handler of control and the sidecar. Every answer is a code of core/errors.ts with its
// status and message from that table: `{ message, code }` (and `reason` when the error carries one, e.g. a
// lockdown). A client's mistake never echoes what the client sent or fastify's text about it (a JSON parse
// error quotes the start of the body, which may be a secret); only schema validation says which field is wrong,
// in words generated from the route's schema. Anything unexpected is a logged 500 without details.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isWingmanError, wingmanError, type WingmanError } from '../errors.js';

export interface ErrorHandlerOptions {
  /** what the surface accepts, said when a body has another content type (default `application/json`) */
  accepts?: string;
}

/** A fastify error (or anything else thrown) as the coded error it stands for. */
export function toWingmanError(err: FastifyError | Error, o: ErrorHandlerOptions = {}): WingmanError {
  if (isWingmanError(err)) return err;
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return wingmanError('WGM_ERR_API_MEDIA_TYPE', `send ${o.accepts ?? 'application/json'}`);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return wingmanError('WGM_ERR_API_BODY_TOO_LARGE');
  if (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return wingmanError('WGM_ERR_API_BAD_REQUEST', 'request body is not valid JSON');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return wingmanError('WGM_ERR_API_BAD_REQUEST', 'the JSON body is empty');
  // Schema validation: the message is ajv's, built from the schema (which field, which rule), never from the input.
  if (fe.validation) return wingmanError('WGM_ERR_API_BAD_REQUEST', err.message);
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) return wingmanError('WGM_ERR_API_BAD_REQUEST');
  return wingmanError('WGM_ERR_INTERNAL', undefined, undefined, err);
}

export function errorHandler(o: ErrorHandlerOptions = {}) {
  return function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
    const e = toWingmanError(err, o);
    if (e.code === 'WGM_ERR_INTERNAL') {
      req.log.error({ err: err.message }, 'unhandled error');
      return reply.status(e.statusCode).send({ message: e.message, code: e.code });
    }
    if (e.statusCode >= 500) req.log.warn({ code: e.code, err: e.message }, 'request failed');
    const reason = e.details?.reason;
    return reply.status(e.statusCode).send({ message: e.message, code: e.code, ...(reason ? { reason } : {}) });
  };
}
