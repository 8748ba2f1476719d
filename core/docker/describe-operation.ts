// Describe a Docker API call as the exact operation an approval is bound to. Used by the proxy when it holds a call,
// and by the control API when an approval (with a grant token) is requested ahead of the call, so both compute
// the same op hash for the same request.
import type Dockerode from 'dockerode';
import { opHash, type Operation } from '../approvals/operation.js';
import { decide, type Decision } from '../policy/decide.js';
import { parseGoJson, type JVal } from '../policy/go-json.js';
import { encodePath, encodeQuery, normalizeTarget, type NormalizedTarget } from '../policy/normalize.js';
import type { WorkerPolicy } from '../policy/policy-file.js';
import { fillRoute, resolveParams } from './resolve.js';

export interface DescribedOperation {
  op: Operation;
  hash: string;
  decision: Decision;
  target: NormalizedTarget;
  /** the path to forward: resolved ids, canonical encoding */
  path: string;
  imageId?: string;
}

export async function describeResolved(
  docker: Dockerode,
  worker: string,
  method: string,
  target: NormalizedTarget,
  decision: Decision,
  body: JVal | undefined,
  extra: Pick<Operation, 'headers' | 'rawBody'> & {
    /** route params already resolved to the ids the decision was made on (the proxy's object facts) */
    checkedParams?: Record<string, string>;
  } = {},
): Promise<DescribedOperation> {
  // Resolving a name again here could bind the approval to another object than the one whose owner was checked.
  const resolved = extra.checkedParams ? { params: extra.checkedParams } : await resolveParams(docker, decision.rule, decision.params);
  const imageId = 'imageId' in resolved ? resolved.imageId : undefined;
  const params = imageId ? { ...resolved.params, image_id: imageId } : resolved.params;
  const op: Operation = {
    worker,
    method,
    route: decision.route,
    rule: decision.rule.id,
    params,
    version: target.version,
    query: target.query,
    body,
    ...(extra.headers && Object.keys(extra.headers).length ? { headers: extra.headers } : {}),
    ...(extra.rawBody ? { rawBody: extra.rawBody } : {}),
  };
  const path =
    (target.version ? `/v${target.version}` : '') +
    encodePath(decision.rule.id === 'Unknown' ? target.path : fillRoute(decision.route, resolved.params)) +
    encodeQuery(target.query);
  return { op, hash: opHash(op), decision, target, path, imageId };
}

/** From a raw request description (as the API receives it) to the operation the proxy would see. */
export async function describeOperation(
  docker: Dockerode,
  req: { worker: string; method: string; path: string; body?: unknown },
  policy: WorkerPolicy,
): Promise<DescribedOperation> {
  const method = req.method.toUpperCase();
  const target = normalizeTarget(req.path);
  const body = req.body === undefined || req.body === null ? undefined : parseGoJson(JSON.stringify(req.body));
  const decision = decide({ method, target, worker: req.worker, body, policy });
  return describeResolved(docker, req.worker, method, target, decision, body);
}
