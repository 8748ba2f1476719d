// One Docker API call through the proxy: normalise → (read and canonicalise the body) → decide → allow / hold for
// approval / refuse → forward exactly what was decided → audit. Plain requests and upgrade requests take the same
// path; only the last hop differs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Approval, Approvals } from '../core/approvals/approvals.js';
import type { ApprovalWaiter } from '../core/approvals/approval-waiter.js';
import { grantCall, isGrantToken, type Grants } from '../core/approvals/grants.js';
import { redactedOp } from '../core/approvals/operation.js';
import { describeResolved } from '../core/docker/describe-operation.js';
import type { DockerAudit, DockerAuditRecord } from '../core/audit/docker-audit.js';
import { isDataError } from '../core/store/db.js';
import { randomUUID } from 'node:crypto';
import type { Config } from '../core/config.js';
import { ERRORS, isWingmanError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { decide, type Decision } from '../core/policy/decide.js';
import { referencedHostPaths } from '../core/policy/escalation.js';
import { parseGoJson, toJson, type JVal } from '../core/policy/go-json.js';
import { matchRoute, type RouteMatch } from '../core/policy/match-route.js';
import { encodePath, encodeQuery, normalizeTarget, type NormalizedTarget } from '../core/policy/normalize.js';
import type { PolicyFile } from '../core/policy/policy-file.js';
import type { Fetched, Forwarder } from './forward.js';
import type { LockState } from './lock-state.js';
import { hasBody, readBody } from './read-body.js';
import { reject, rejection, rejectSocket, type Rejection } from './reject.js';
import { currentImageId, execContainerId, fillRoute, gatherFacts, NotFound, resolveParams } from '../core/docker/resolve.js';
import type { WorkerContainers } from './worker-containers.js';
import { forwardUpgrade } from './upgrade.js';
import { QUERY_ONLY_INSPECT } from '../core/policy/docker-rules.js';
import type { ObjectFacts } from '../core/policy/object-facts.js';
import { gatherObjects } from '../core/docker/gather-objects.js';
import type { EngineLookup } from '../core/docker/engine-lookup.js';
import { engineUnreachable } from '../core/docker/ping-engine.js';
import { scopeQuery, stampBody, stampBuildQuery } from '../core/ownership/owner-label.js';
import type { Ownership } from '../core/ownership/ownership.js';
import { OPERATIVE_HEADERS } from '../core/approvals/operation.js';
import { spoolBody, type SpooledBody } from './spool-body.js';
import { afterForward, filterListed, needsAfter, needsCapture, needsFiltering } from './owned-results.js';
import path from 'node:path';
import { loadOnce } from '../core/util/load-once.js';

// Loaded by the first call that needs them, not at start (a proxy that only forwards never carries them): the
// engine API's body schema, compiled with ajv (about 3 MB of heap and 0.6-0.8 s of CPU, paid by the first call
// with a JSON body to check), and the build-context reader (dockerfile-ast, tar-stream; builds only). The call
// awaits the load; one that cannot load is refused with 500 (WGM_ERR_INTERNAL), never forwarded unchecked.
const loadEngineBody = loadOnce('the Docker Engine API body check', () => import('../core/docker/check-engine-body.js'));
const loadBuildContext = loadOnce('the build-context reader', () => import('../core/docker/build-context.js'));

/** Only these endpoints hijack the connection in dockerd; an Upgrade header anywhere else is refused. */
const HIJACK_RULES = new Set(['ContainerAttach', 'ExecStart', 'ContainerAttachWebsocket']);

export interface ProxyDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  approvals: Approvals;
  /** shell-wrapper grants: one approval for a whole docker command, spent call by call */
  grants: Grants;
  waiter: ApprovalWaiter;
  audit: DockerAudit;
  policy: PolicyFile;
  docker: Dockerode;
  forwarder: Forwarder;
  lockState: LockState;
  /** Wingman's own paths that no container may mount */
  sensitivePaths: readonly string[];
  /** each worker's registered container, as an id (for the sidecar identity) */
  workerContainers: WorkerContainers;
  /** who owns which object (the store's word) */
  ownership: Ownership;
  /** lean engine reads for the facts of a decision */
  engine: EngineLookup;
}

export type CallIo = { kind: 'http'; res: ServerResponse } | { kind: 'upgrade'; socket: Duplex; head: Buffer };

interface AuditCtx {
  route: string;
  rule: string;
  path: string;
  would?: string;
  approvalId?: string;
  approvedBy?: string;
  bytesIn: number;
  identity: Identity;
  /** the audit row's id, once its intent is logged (the outcome is the same row) */
  auditId?: string;
}

type TokenCheckCode = Extract<Awaited<ReturnType<Approvals['consumeToken']>>, { ok: false }>['code'];
const TOKEN_REFUSAL: Record<TokenCheckCode, ErrorCode> = {
  WGM_ERR_APPROVAL_NOT_FOUND: 'WGM_ERR_APPROVAL_TOKEN_UNKNOWN',
  WGM_ERR_APPROVAL_USED: 'WGM_ERR_APPROVAL_USED',
  WGM_ERR_APPROVAL_MISMATCH: 'WGM_ERR_APPROVAL_MISMATCH',
  WGM_ERR_APPROVAL_EXPIRED: 'WGM_ERR_APPROVAL_EXPIRED',
  WGM_ERR_APPROVAL_NOT_PENDING: 'WGM_ERR_APPROVAL_NOT_APPROVED',
};

class Refusal extends Error {
  constructor(readonly r: Rejection, readonly decision: string) {
    super(r.message);
  }
}

/** A refusal with `code`'s status from the table; `decision` is what the audit row and the metrics say. */
const refusal = (code: ErrorCode, message: string, decision = 'deny') => new Refusal(rejection(code, message), decision);

function isJsonRequest(req: IncomingMessage): boolean {
  return /^application\/(.+\+)?json\b/i.test(req.headers['content-type'] ?? '');
}

/**
 * Go's Request.ParseForm reads an urlencoded body (and FormValue a multipart one) ahead of the query, so such a
 * body can change what a call does after it was decided on its query. The media type is compared as Go's
 * mime.ParseMediaType sees it (parameters dropped, trimmed, lower case).
 */
function isFormBody(req: IncomingMessage): boolean {
  const media = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return media === 'application/x-www-form-urlencoded' || media === 'multipart/form-data';
}

/** The headers dockerd acts on, as sent: they are part of what an approval is bound to. */
function operativeHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of OPERATIVE_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') out[h] = v;
  }
  return out;
}

const LIST_KIND: Record<string, 'container' | 'volume' | 'network' | undefined> = { containers: 'container', volumes: 'volume', networks: 'network' };

/** Whether ops adopted objects of this kind for the worker; unknown (store down) counts as yes (no label narrowing). */
async function adoptedAny(deps: ProxyDeps, worker: string, kind: 'container' | 'volume' | 'network'): Promise<boolean> {
  try {
    return await deps.ownership.hasAdopted(worker, kind);
  } catch {
    return true;
  }
}

/** Id and name out of a container inspect answer. */
function inspected(body: Buffer): { id: string; name: string } | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as { Id?: unknown; Name?: unknown };
    if (typeof v.Id !== 'string' || !/^[0-9a-f]{64}$/.test(v.Id)) return undefined;
    return { id: v.Id, name: typeof v.Name === 'string' ? v.Name.replace(/^\//, '') : v.Id };
  } catch {
    return undefined;
  }
}

/**
 * The label children of each (rule, decision), kept per registry: no label object built and checked against the
 * label names per call (both sets are bounded: rule ids of the table, decisions).
 */
type Children = { counted: Map<string, { inc(): void }>; timed: Map<string, { observe(v: number): void }> };
const children = new WeakMap<Metrics, Children>();
function childrenOf(metrics: Metrics): Children {
  let c = children.get(metrics);
  if (!c) children.set(metrics, (c = { counted: new Map(), timed: new Map() }));
  return c;
}
function counted(metrics: Metrics, rule: string, decision: string): { inc(): void } {
  const map = childrenOf(metrics).counted;
  const key = `${rule}\u0000${decision}`;
  let child = map.get(key);
  if (!child) map.set(key, (child = metrics.proxyRequests.labels(rule, decision)));
  return child;
}
function timed(metrics: Metrics, decision: string): { observe(v: number): void } {
  const map = childrenOf(metrics).timed;
  let child = map.get(decision);
  if (!child) map.set(decision, (child = metrics.proxyDuration.labels(decision)));
  return child;
}

/** The socket a call arrived on says who is calling: the worker, or its sidecar's read-only identity. */
export type Identity = 'worker' | 'sidecar';

export async function handleCall(
  deps: ProxyDeps,
  worker: string,
  req: IncomingMessage,
  io: CallIo,
  identity: Identity = 'worker',
): Promise<void> {
  const started = performance.now();
  const method = (req.method ?? 'GET').toUpperCase();
  const ctx: AuditCtx = { route: 'invalid', rule: 'Invalid', path: (req.url ?? '').slice(0, 512), bytesIn: 0, identity };
  let decisionLabel: string;
  let spooled: SpooledBody | undefined;
  // Watched from the first moment: a caller that leaves while its call is being looked at (before it is held)
  // must not leave an approval behind that nothing waits on.
  const gone = callerGone(req, io);
  try {
    let target = normalizeTarget(req.url ?? '');
    ctx.path = target.path.slice(0, 512);
    const match = matchRoute(method, target.path);
    ctx.route = match.route;
    ctx.rule = match.rule.id;

    if (io.kind === 'upgrade') {
      if (!HIJACK_RULES.has(match.rule.id)) {
        throw refusal('WGM_ERR_PROXY_PROTOCOL', 'connection upgrade is only accepted on attach and exec start', 'invalid');
      }
      if (req.headers['transfer-encoding']) {
        throw refusal('WGM_ERR_PROXY_PROTOCOL', 'chunked body on an upgrade request', 'invalid');
      }
    }

    if (hasBody(req) && isFormBody(req)) {
      throw refusal(
        'WGM_ERR_PROXY_UNSUPPORTED_BODY',
        'form-encoded and multipart bodies are not accepted: dockerd reads them ahead of the query, after the decision (send the parameters in the query)',
        'invalid',
      );
    }

    // Lists, prunes and event streams see only the worker's own objects; builds are labelled as its own. The
    // query decided on is the query forwarded.
    if (identity === 'worker') {
      const listed = LIST_KIND[match.rule.scope ?? ''];
      const labelLists = match.rule.method === 'GET' && listed !== undefined ? !(await adoptedAny(deps, worker, listed)) : false;
      target = { ...target, query: scopeQuery(match.rule, target.query, worker, { labelLists }) };
      if (match.rule.id === 'ImageBuild') target = { ...target, query: stampBuildQuery(target.query, worker) };
    }

    // Bodies that can change what the call does are read whole, parsed as Go will parse them, and the canonical
    // form is what we decide on and what we forward. Tar streams (build context, archives, image loads) are not.
    let body: JVal | undefined;
    let bodyBuf: Buffer | undefined;
    const inspectsBody = match.rule.inspect !== undefined && !QUERY_ONLY_INSPECT.has(match.rule.inspect);
    const jsonRead = match.rule.action !== 'allow' || needsCapture(match.rule.id);
    const readsJson = io.kind === 'http' && (inspectsBody || (jsonRead && isJsonRequest(req)));
    if (readsJson && hasBody(req)) {
      const raw = await readBody(req, deps.config.maxBodyBytes);
      ctx.bytesIn = raw.length;
      if (raw.toString('latin1').trim() === '') bodyBuf = Buffer.alloc(0);
      else body = parseGoJson(raw);
    }
    // Types Go cannot decode are a 400 here, not a 500 from dockerd (no body at all counts as empty).
    if (readsJson) (await loadEngineBody()).checkEngineBody(match.rule.id, body);
    // Creates carry the owner label (a worker's own label under that key is replaced).
    if (identity === 'worker' && io.kind === 'http') {
      const stamped = stampBody(match.rule.id, body, worker);
      if (stamped !== body) {
        body = stamped;
        req.headers['content-type'] = 'application/json';
      }
    }
    if (body !== undefined) bodyBuf = Buffer.from(toJson(body));

    const refs = referencedHostPaths(match.rule.inspect, body);
    const facts = refs.paths.length || refs.volumes.length ? await gatherFacts(deps.docker, refs.paths, refs.volumes) : {};
    if (match.rule.id === 'ImageBuild' && identity === 'worker' && io.kind === 'http' && hasBody(req)) {
      // The context is read before deciding: its Dockerfile can make dockerd fetch (ADD <url>, FROM a registry).
      // The spooled file, and nothing sent later, is what dockerd then gets.
      spooled = await spoolBody(req, path.join(deps.config.dataDir, 'spool', 'bodies'));
      ctx.bytesIn = spooled.bytes;
      const { inspectBuildContext, onbuildFetches } = await loadBuildContext();
      const built = await inspectBuildContext(spooled.path, target.query);
      // The ONBUILD triggers of its base images run in this build too.
      for (const image of built.fromImages) {
        if (image.includes('$')) continue;
        let info: Record<string, unknown> | undefined;
        try {
          info = await deps.engine.inspect('image', image);
        } catch {
          built.problem ??= `the base image ${image.slice(0, 120)} could not be inspected for ONBUILD triggers`;
        }
        const onBuild = (info?.Config as { OnBuild?: unknown } | undefined)?.OnBuild;
        if (Array.isArray(onBuild)) {
          for (const src of onbuildFetches(onBuild.filter((x): x is string => typeof x === 'string'))) {
            built.fetches.push(`${src} (an ONBUILD trigger of ${image})`);
          }
        }
      }
      facts.buildContext = built;
    }

    // Whose objects the call touches: gathered before deciding, like every other fact.
    let objects: ObjectFacts | undefined;
    let prefetched: Fetched | undefined;
    if (identity === 'worker' && io.kind === 'http' && match.rule.id === 'ContainerInspect') {
      // An inspect has no effect, and its answer is the fact itself (the id and name of what the name resolves
      // to now): asked once, decided on, and written only if the container is the worker's.
      prefetched = await deps.forwarder.fetch(req, { path: (target.version ? `/v${target.version}` : '') + encodePath(target.path) + encodeQuery(target.query) });
      if (prefetched.status === 404) throw new NotFound('container', match.params.name ?? '');
      if (prefetched.status === 200) {
        const seen = inspected(prefetched.body);
        if (!seen) throw refusal('WGM_ERR_PROXY_UPSTREAM', 'docker engine answered an inspect without an id', 'error');
        let owner: string | undefined;
        try {
          owner = await deps.ownership.ownerOf('container', seen.id);
        } catch (err) {
          if (isWingmanError(err)) throw err;
          throw refusal('WGM_ERR_STORE_UNAVAILABLE', 'the store cannot say who owns what this call touches; refused (fail closed)', 'error');
        }
        const ref = match.params.name ?? '';
        objects = { target: { kind: 'container', ref, use: 'target', exists: true, id: seen.id, names: [seen.name], owner: owner ?? null }, refs: [] };
      } else objects = { refs: [] }; // an error answer of the engine's own: relayed as it is
    } else if (identity === 'worker' || match.rule.sidecar === 'worker') {
      try {
        objects = await gatherObjects(deps.engine, deps.ownership, match.rule, match.params, target, body);
      } catch (err) {
        if (isWingmanError(err) || (err as { statusCode?: number }).statusCode !== undefined) throw err;
        throw refusal('WGM_ERR_STORE_UNAVAILABLE', 'the store cannot say who owns what this call touches; refused (fail closed)', 'error');
      }
      const t = objects.target;
      // A name that does not exist now is answered here: forwarding it by name could reach an object that
      // someone else creates under it a moment later.
      if (t && !t.exists && t.kind !== 'image') throw new NotFound(t.kind, t.ref);
      if (t?.exists && match.rule.targetQuery && t.id) {
        const key = match.rule.targetQuery;
        target = { ...target, query: target.query.map(([k, v]): [string, string] => [k, k === key ? t.id! : v]) };
      }
    }
    const sidecar = identity === 'sidecar' ? await sidecarTarget(deps, worker, match, objects?.target?.id) : undefined;
    // A write may rename, remove or retag: the engine's answers kept for the next decisions are dropped, before
    // it runs and again after (see core/docker/engine-lookup.ts).
    const writes = !match.rule.read && match.rule.id !== 'ContainerAttach' && match.rule.id !== 'ContainerAttachWebsocket';
    if (writes) deps.engine.invalidate();
    const lock = match.rule.read || sidecar ? undefined : await deps.lockState.get(worker);
    if (lock === 'unknown') {
      throw refusal('WGM_ERR_STORE_UNAVAILABLE', 'lockdown state unknown (the store is unreachable and the Redis mirror is not known to be in step with it); refused (fail closed)', 'error');
    }
    const lockdown = lock;
    const decision = decide({
      method,
      target,
      worker,
      body,
      policy: deps.policy.forWorker(worker),
      sensitivePaths: deps.sensitivePaths,
      facts,
      lockdown,
      match,
      identity,
      ownContainer: sidecar?.own,
      objects,
    });

    // One effect, one rule: an attach with stdin is audited (and counted) as the exec it is.
    ctx.rule = decision.rule.id;
    let action = decision.action;
    // Shadow mode is for rolling out worker policy; the sidecar identity is always enforced.
    if (deps.config.policyMode === 'shadow' && action !== 'allow' && identity === 'worker') {
      ctx.would = action;
      action = 'allow';
    }
    decisionLabel = ctx.would ? `shadow_${ctx.would}` : action;
    counted(deps.metrics, decision.rule.id, decisionLabel).inc();

    if (action === 'deny') {
      const code = decision.notOwner ? 'WGM_ERR_PROXY_NOT_OWNER' : 'WGM_ERR_PROXY_FORBIDDEN';
      throw refusal(code, decision.reasons.join('; ') || `${decision.summary} is not allowed`);
    }

    // Calls go to the id that was checked, so a rename between check and forward changes nothing.
    const t = objects?.target;
    const checkedId = t?.exists && t.id && t.kind !== 'image' && !match.rule.targetQuery ? t.id : undefined;
    const checkedParams = checkedId ? { ...match.params, [Object.keys(match.params)[0] ?? '']: checkedId } : undefined;
    const checkedPath = sidecar?.path ?? encodePath(checkedParams ? fillRoute(match.route, checkedParams) : target.path);
    let forwardPath = (target.version ? `/v${target.version}` : '') + checkedPath + encodeQuery(target.query);
    if (action === 'approve') {
      // A body that is not JSON is bound by its digest: spooled, hashed, and that file is what is forwarded.
      if (io.kind === 'http' && bodyBuf === undefined && spooled === undefined && hasBody(req)) {
        spooled = await spoolBody(req, path.join(deps.config.dataDir, 'spool', 'bodies'));
        ctx.bytesIn = spooled.bytes;
      }
      const rawBody = spooled ? { sha256: spooled.sha256, bytes: spooled.bytes } : undefined;
      // The audit row names the approval even when the call ends refused (denied, expired, the caller left).
      const spent = await holdForApproval(deps, worker, req, gone.signal, target, decision, body, rawBody, checkedParams, (id) => (ctx.approvalId = id));
      ctx.approvalId = spent.approvalId;
      ctx.approvedBy = spent.approvedBy;
      forwardPath = spent.path;
      decisionLabel = 'approved';
    }

    // Nothing reaches the engine (or, for an inspect already asked, the client) before its intent is in the
    // audit log: a process killed from here on still leaves the call's row.
    try {
      ctx.auditId = randomUUID();
      await deps.audit.intent(auditRecord(deps, worker, method, ctx, decisionLabel, null, started, 0));
    } catch (err) {
      ctx.auditId = undefined;
      deps.log.error({ worker, err: (err as Error).message }, 'audit log cannot be written; call refused');
      throw refusal('WGM_ERR_AUDIT_UNAVAILABLE', 'the audit log cannot be written (disk full?); refused until it can (fail closed)', 'error');
    }

    if (io.kind === 'http' && (prefetched || (identity === 'worker' && needsFiltering(match.rule)))) {
      // An inspect already answered (its answer was the fact decided on), or a list: dockerd may have applied the
      // owner label, and the store has the last word on each item.
      let answer = prefetched;
      if (!answer) {
        const got = await deps.forwarder.fetch(req, { path: forwardPath, body: bodyBuf });
        answer = got.status === 200 ? { ...got, body: await filterListed(deps.ownership, worker, match.rule.scope!, got.body) } : got;
      }
      const headers: Record<string, string | string[]> = { ...answer.headers, 'content-length': String(answer.body.length) };
      if (!req.complete) headers['connection'] = 'close';
      io.res.writeHead(answer.status, headers);
      io.res.end(answer.body);
      void auditRow(deps, worker, method, ctx, decisionLabel, answer.status, started, answer.body.length);
    } else if (io.kind === 'http') {
      const r = await deps.forwarder.forward(req, io.res, {
        path: forwardPath,
        body: bodyBuf,
        ...(spooled ? { bodyFile: { path: spooled.path, bytes: spooled.bytes } } : {}),
        ...(identity === 'worker' && needsCapture(match.rule.id) ? { capture: 256 * 1024 } : {}),
        ...(identity === 'worker' && needsAfter(match.rule.id)
          ? {
              beforeEnd: (status: number, captured: Buffer | undefined) =>
                afterForward(deps, worker, match.rule.id, target, objects, status, captured).catch((err: Error) =>
                  deps.log.warn({ worker, rule: match.rule.id, err: err.message }, 'could not record ownership after a call'),
                ),
            }
          : {}),
      });
      void auditRow(deps, worker, method, ctx, decisionLabel, r.status, started, r.bytesOut);
    } else {
      stopEarlyRead(io);
      const r = await forwardUpgrade(deps.config.upstreamSocket, req, io.socket, io.head, forwardPath);
      ctx.bytesIn += r.bytesIn;
      void auditRow(deps, worker, method, ctx, decisionLabel, r.status, started, r.bytesOut);
    }
    timed(deps.metrics, decisionLabel).observe((performance.now() - started) / 1000);
  } catch (err) {
    const ref = toRefusal(err, deps.config.upstreamSocket);
    if (ref.decision === 'invalid') deps.metrics.proxyRequests.inc({ rule: 'Invalid', decision: 'invalid' });
    // On record before the refusal goes out: a refused call left no intent, so this line is its only row.
    await auditRow(deps, worker, method, ctx, ref.decision, ref.r.status, started, 0, ref.r.message);
    if (io.kind === 'http') {
      // An unread body must not be parsed as the next request on this connection.
      if (!req.complete) io.res.setHeader('Connection', 'close');
      reject(io.res, deps.log, worker, ref.r, method, ctx.route);
    } else rejectSocket(io.socket, deps.log, worker, ref.r, method, ctx.route);
  } finally {
    spooled?.remove();
    if (method !== 'GET' && method !== 'HEAD') deps.engine.invalidate();
  }
}

function toRefusal(err: unknown, upstreamSocket: string): Refusal {
  if (err instanceof Refusal) return err;
  if (err instanceof NotFound) return refusal('WGM_ERR_PROXY_NOT_FOUND', err.message, 'not_found');
  if (isWingmanError(err)) {
    const r = rejection(err.code, err.message);
    return new Refusal(r, r.status === 400 || r.status === 413 ? 'invalid' : 'deny');
  }
  const e = err as { code?: string; statusCode?: number; message?: string; engineMessage?: string; json?: { message?: unknown } };
  // The engine could not parse what the caller named (an inspect made to decide on it answered 400): the
  // caller's bad input, not an engine failure.
  if (e.statusCode === 400) {
    const said = e.engineMessage ?? (typeof e.json?.message === 'string' ? e.json.message : e.message ?? 'bad reference');
    return refusal('WGM_ERR_PROXY_BAD_PATH', `the docker engine refused the reference: ${said.slice(0, 200)}`, 'invalid');
  }
  // dockerd redirects a path with `//` or dot segments (a name with '/', '.', '..', or an empty one); no redirect is
  // followed (core/docker/open-docker.ts), and the caller's name is what is wrong. docker-modem's refusal to follow
  // carries no code, only its message.
  if ((e.statusCode !== undefined && e.statusCode >= 300 && e.statusCode < 400) || /^Max redirects exceeded/.test(e.message ?? '')) {
    return refusal('WGM_ERR_PROXY_BAD_PATH', 'the docker engine does not take this name (empty, or with "/" or dot segments)', 'invalid');
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'ECONNRESET') {
    return refusal('WGM_ERR_PROXY_UPSTREAM', engineUnreachable(upstreamSocket), 'error');
  }
  return refusal('WGM_ERR_PROXY_UPSTREAM', `docker engine error: ${(e.message ?? 'unknown').slice(0, 200)}`, 'error');
}

/**
 * The call's audit row, built as one fixed-shape literal (what DockerAudit.newRecord makes, without its spreads:
 * two of these per call, and object spread over varying shapes was a tenth of the proxy's CPU under load).
 */
function auditRecord(
  deps: ProxyDeps,
  worker: string,
  method: string,
  ctx: AuditCtx,
  decision: string,
  status: number | null,
  started: number,
  bytesOut: number,
  reason?: string,
): DockerAuditRecord {
  return {
    id: ctx.auditId ?? randomUUID(),
    at: new Date().toISOString(),
    worker,
    method: method.length > 16 ? method.slice(0, 16) : method,
    route: ctx.route,
    path: ctx.path,
    rule: ctx.rule,
    decision,
    // The sidecar identity is always enforced; its rows say so, apart from the worker's own calls.
    mode: ctx.identity === 'sidecar' ? 'sidecar' : deps.config.policyMode,
    would: ctx.would ?? null,
    approval_id: ctx.approvalId ?? null,
    approved_by: ctx.approvedBy ?? null,
    status_code: status,
    duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    bytes_in: ctx.bytesIn,
    bytes_out: bytesOut,
    reason: reason === undefined ? null : reason.slice(0, 1000),
  };
}

function auditRow(
  deps: ProxyDeps,
  worker: string,
  method: string,
  ctx: AuditCtx,
  decision: string,
  status: number,
  started: number,
  bytesOut: number,
  reason?: string,
): Promise<void> {
  return deps.audit.record(auditRecord(deps, worker, method, ctx, decision, status, started, bytesOut, reason));
}

/**
 * For a sidecar call that the table limits to its worker's container: is the target (for an exec, the exec's
 * container) that container, and which path carries the checked id. The worker's container is the one registered
 * for it (POST /workers {name, container}); none registered means nothing is its own.
 */
async function sidecarTarget(
  deps: ProxyDeps,
  worker: string,
  match: RouteMatch,
  /** (rules marked `worker`) the container id the object facts resolved */
  checkedId: string | undefined,
): Promise<{ own: boolean; path?: string }> {
  const { rule, params } = match;
  if (rule.sidecar !== 'own' && rule.sidecar !== 'worker') return { own: false };
  let mine: string | undefined;
  try {
    mine = await deps.workerContainers.idOf(worker);
  } catch (err) {
    if (isWingmanError(err) || (err as { statusCode?: number }).statusCode !== undefined) throw err;
    throw refusal('WGM_ERR_STORE_UNAVAILABLE', `the store cannot say which container is ${worker}'s; refused (fail closed)`, 'error');
  }
  // Its worker's own container, or (below, in decide) one its worker owns; forwarded to the checked id either way.
  if (rule.sidecar === 'worker') return { own: mine !== undefined && checkedId === mine };
  if (!mine) {
    throw refusal('WGM_ERR_PROXY_FORBIDDEN', `no container is registered for worker ${worker}; its sidecar identity has nothing to read (POST /workers {name, container})`);
  }
  const key = Object.keys(params)[0] ?? '';
  if (rule.object === 'exec') {
    const containerId = await execContainerId(deps.docker, params[key] ?? '');
    return { own: containerId === mine };
  }
  const resolved = await resolveParams(deps.docker, rule, params);
  const own = resolved.params[key] === mine;
  return { own, path: own ? encodePath(fillRoute(match.route, resolved.params)) : undefined };
}

const storeDown = (what: string) =>
  refusal('WGM_ERR_STORE_UNAVAILABLE', `approval store unavailable; ${what} refused until it is back (fail closed)`, 'error');

/** What a hijack caller may send before its call is forwarded; kept for the forward (beyond it, reading stops). */
const EARLY_BYTES_MAX = 1024 * 1024;
const earlyReaders = new WeakMap<Duplex, (c: Buffer) => void>();

/**
 * Whether the caller is gone; its AbortSignal is made only when asked for (a held call): most calls are answered
 * at once, and an AbortController per call showed in the profile.
 */
class CallerWatch {
  private ac: AbortController | undefined;
  private left = false;

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.left) this.ac.abort();
    }
    return this.ac.signal;
  }

  abort(): void {
    this.left = true;
    this.ac?.abort();
  }
}

/**
 * Aborts when the caller goes away before its answer was written: its connection closes, or it half-closes (a
 * caller that has stopped sending while its call is held is not waiting for it; docker clients never half-close a
 * plain request). Watched on the socket, which a pipelined request shares with the ones before it.
 */
function callerGone(req: IncomingMessage, io: CallIo): CallerWatch {
  const ac = new CallerWatch();
  if (io.kind === 'http') {
    const sock = req.socket;
    if (sock.destroyed || sock.readableEnded) {
      ac.abort();
      return ac;
    }
    const gone = () => ac.abort();
    sock.once('close', gone);
    sock.once('end', gone);
    // Answered in full: no caller gone (and the listeners must not pile up on a keep-alive socket).
    io.res.once('finish', () => {
      sock.off('close', gone);
      sock.off('end', gone);
    });
    return ac;
  }
  if (io.socket.destroyed) {
    ac.abort();
    return ac;
  }
  io.socket.once('close', () => ac.abort());
  // The server hands an upgraded socket over unread and half-open: unless something reads it, the caller leaving
  // is never seen (no 'end', so no 'close'), and a held call would look live until it expired. It is read here;
  // what arrives is kept for the forward (stopEarlyRead), and a caller that ends its side is gone.
  const sock = io.socket;
  const keep = (c: Buffer) => {
    io.head = Buffer.concat([io.head, c]);
    if (io.head.length > EARLY_BYTES_MAX) sock.pause();
  };
  earlyReaders.set(sock, keep);
  sock.on('data', keep);
  sock.once('end', () => ac.abort());
  sock.on('error', () => ac.abort());
  return ac;
}

/** Hand a hijacked socket's reading back to the forward (what was read so far is in io.head). */
function stopEarlyRead(io: CallIo): void {
  if (io.kind !== 'upgrade') return;
  const keep = earlyReaders.get(io.socket);
  if (keep) io.socket.off('data', keep);
  io.socket.pause();
}

/** Hold the call until a human decides (or spend a grant the caller presented). Returns the path to forward. */
async function holdForApproval(
  deps: ProxyDeps,
  worker: string,
  req: IncomingMessage,
  gone: AbortSignal,
  target: NormalizedTarget,
  decision: Decision,
  body: JVal | undefined,
  rawBody?: { sha256: string; bytes: number },
  checkedParams?: Record<string, string>,
  onHeld: (approvalId: string) => void = () => undefined,
): Promise<{ approvalId: string; approvedBy: string; path: string }> {
  const described = await describeResolved(deps.docker, worker, (req.method ?? '').toUpperCase(), target, decision, body, {
    headers: operativeHeaders(req),
    ...(rawBody ? { rawBody } : {}),
    ...(checkedParams ? { checkedParams } : {}),
  });
  const { op, hash, path } = described;
  const resolved = { imageId: described.imageId };

  let approvalId: string;
  let approvedBy: string;
  const grant = req.headers['x-wingman-approval'];
  if (typeof grant === 'string' && grant !== '') {
    let check;
    try {
      check = isGrantToken(grant)
        ? await deps.grants.consume(grant, worker, grantCall(decision, op.params, body))
        : await deps.approvals.consumeToken(grant, hash, worker);
    } catch {
      throw storeDown(decision.summary);
    }
    if (check.approval) onHeld(check.approval.id);
    if (!check.ok) {
      // A token the proxy refuses is the caller's 403, whatever the approval API answers for the same state
      // (404 unknown, 409 not pending).
      const code = TOKEN_REFUSAL[check.code];
      const what = code === 'WGM_ERR_APPROVAL_NOT_APPROVED' ? `approval is ${check.approval?.status ?? 'not approved'}` : ERRORS[code].message;
      const id = check.approval ? ` (approval ${check.approval.id})` : '';
      throw refusal(code, `${what}${id}`);
    }
    deps.metrics.approvals.inc({ outcome: 'token' });
    approvalId = check.approval.id;
    approvedBy = check.approval.decided_by ?? 'unknown';
  } else {
    let approval;
    try {
      ({ approval } = await deps.approvals.request({
        worker,
        rule: decision.rule.id,
        summary: rawBody ? `${decision.summary} (body of ${rawBody.bytes} bytes, sha256 ${rawBody.sha256.slice(0, 16)}…)` : decision.summary,
        method: op.method,
        route: decision.route,
        path: path.slice(0, 1024),
        opHash: hash,
        op: redactedOp(op),
        reasons: decision.reasons,
        ttlS: deps.config.approvalTimeoutS,
        requiredApprovals: deps.config.twoPersonWorkers.includes(worker) ? 2 : 1,
        maxPending: deps.config.maxPendingPerWorker,
        waiter: deps.waiter.id,
      }));
    } catch (err) {
      if (isWingmanError(err, 'WGM_ERR_PROXY_TOO_MANY_PENDING')) throw refusal(err.code, err.message);
      // The store is up and refused what the call names (a NUL byte in a name or a filter): the caller's input.
      if (isDataError(err)) throw refusal('WGM_ERR_PROXY_BAD_PATH', 'the call names something the store cannot keep (a NUL byte?); refused', 'invalid');
      throw storeDown(decision.summary);
    }
    deps.log.info({ worker, approval: approval.id, rule: decision.rule.id }, 'call held for approval');
    onHeld(approval.id);
    deps.metrics.approvalsPending.inc();
    deps.waiter.hold(approval.id);
    let spent: Approval | undefined;
    try {
      let final;
      try {
        final = await deps.waiter.wait(approval.id, approval.expires_at, gone);
      } catch {
        throw storeDown(decision.summary);
      }
      if (!final || gone.aborted) {
        deps.metrics.approvals.inc({ outcome: 'cancelled' });
        throw refusal('WGM_ERR_PROXY_CALLER_GONE', `caller went away (approval ${approval.id})`, 'cancelled');
      }
      deps.metrics.approvals.inc({ outcome: final.status });
      if (final.status === 'denied') {
        const note = final.note ? `: ${final.note}` : '';
        throw refusal('WGM_ERR_PROXY_DENIED', `denied by ${final.decided_by ?? 'an approver'}${note} (approval ${approval.id})`, 'denied');
      }
      if (final.status === 'expired') {
        throw refusal('WGM_ERR_APPROVAL_EXPIRED', `no decision within ${deps.config.approvalTimeoutS}s, expired (approval ${approval.id})`, 'expired');
      }
      if (final.status !== 'approved') {
        throw refusal('WGM_ERR_PROXY_DENIED', `approval ${approval.id} is ${final.status}`, 'denied');
      }
      spent = await deps.approvals.consume(approval.id, hash).catch(() => undefined);
      if (!spent) throw refusal('WGM_ERR_APPROVAL_USED', `approval already used (approval ${approval.id})`, 'denied');
    } finally {
      deps.waiter.release(approval.id);
      deps.metrics.approvalsPending.dec();
      // Whatever ended the wait without spending the approval (the caller left, the store failed, a bug), it is
      // withdrawn: an approval nothing waits on must not look live, or be spent later.
      if (!spent) await deps.approvals.cancel(approval.id, 'the waiting call went away').catch(() => undefined);
    }
    approvalId = approval.id;
    approvedBy = spent.decided_by ?? 'unknown';
  }
  if (resolved.imageId) {
    const now = await currentImageId(deps.docker, decision.params.name ?? '');
    if (now !== resolved.imageId) {
      throw refusal('WGM_ERR_APPROVAL_IMAGE_CHANGED', `image ${decision.params.name} changed since it was approved (approval ${approvalId})`);
    }
  }
  return { approvalId, approvedBy, path };
}
