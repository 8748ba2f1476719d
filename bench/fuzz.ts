// Fuzzing a worker's socket, for the figure in issue #11 ("10,000 fuzzed requests: no crash, no escalation"):
// a real `wingman up` (Postgres store) takes `count` raw HTTP requests on w1's socket, each a mutation of a real
// Docker API call (methods, path encodings and dot-segments, version prefixes, queries, duplicated framing headers,
// chunked and odd JSON bodies, truncation, garbage, the HTTP/2 preface, upgrades), aimed mostly at destructive
// routes on two canaries: one ops adopted for w1, one that is someone else's. Nobody approves anything, so
// afterwards both canaries must be exactly as they were, every object w1 made must be recorded as its own and
// unprivileged, no approval may be left pending, and the process must still answer.
// Run: npm run bench -- fuzz [count=10000] [seed=1] [concurrency=16]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { PgDb } from '../core/store/pg-db.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { docker, dockerOk, testLabels, TEST_IMAGE } from '../test/helpers/env.js';
import { spawnWingman } from '../test/helpers/wingman-process.js';
import { asText } from '../core/util/as-text.js';

const COUNT = Number(process.argv[2] ?? 10_000);
const SEED = Number(process.argv[3] ?? 1);
const CONCURRENCY = Number(process.argv[4] ?? 16);
/** how long a client waits for an answer (a held call waits for a human, who never comes) */
const ANSWER_WAIT_MS = 600;
/** FUZZ_DUMP=file: every request sent and what came back, one JSON line each (to replay a finding) */
const dump = process.env.FUZZ_DUMP;

// --- seeded PRNG (mulberry32): the same seed sends the same requests --------------------------------------------
let state = SEED >>> 0;
function rnd(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
const chance = (p: number) => rnd() < p;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

// --- the world the requests aim at -----------------------------------------------------------------------------
const tag = `wgmtest-fz${randomBytes(3).toString('hex')}`;
interface Canary {
  name: string;
  id: string;
}
let mine: Canary;
let theirs: Canary;

function targets(): string[] {
  return [
    mine.name, mine.id, mine.id.slice(0, 12), mine.id.slice(0, 4),
    theirs.name, theirs.id, theirs.id.slice(0, 12), theirs.id.slice(0, 4),
    `/${theirs.name}`, `${tag}-nope`, '', '..', '.', theirs.name.toUpperCase(),
  ];
}
const target = () => (chance(0.45) ? pick([theirs.name, theirs.id, theirs.id.slice(0, 12)]) : pick(targets()));
const newName = () => `${tag}-${int(1e6)}`;

const ESCALATING_HOSTCONFIG: Array<Record<string, unknown>> = [
  { Privileged: true },
  { Binds: ['/:/host'] },
  { Binds: ['/var/run/docker.sock:/s'] },
  { NetworkMode: 'host' },
  { PidMode: 'host' },
  { IpcMode: 'host' },
  { UsernsMode: 'host' },
  { CapAdd: ['ALL'] },
  { CapAdd: ['SYS_ADMIN'] },
  { SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'] },
  { Devices: [{ PathOnHost: '/dev/mem', PathInContainer: '/dev/mem', CgroupPermissions: 'rwm' }] },
  { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] },
  { Mounts: [{ Type: 'volume', Source: 'x', Target: '/x', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } } } }] },
  { VolumesFrom: ['__THEIRS__'] },
  { NetworkMode: 'container:__THEIRS__' },
  { PidMode: 'container:__THEIRS__' },
  { Sysctls: { 'kernel.shm_rmid_forced': '1' } },
  { CgroupParent: '/' },
  { Runtime: 'runc' },
  { OomKillDisable: true },
  { Memory: 6 },
];

/** A JSON value of a surprising type. */
function oddValue(): unknown {
  return pick<unknown>([
    [], {}, null, true, false, 0, -1, 3.14, 1e308, -0, '', 'x', '\u0000', '\ud800', 'é', '🐳', [1, 'a', null], { a: { b: { c: [] } } },
    1.2345678901234568e29 /* 123456789012345678901234567890 as a double */, 'true', '1', ['/:/host'], { Privileged: true },
  ]);
}

function containerCreateBody(): Record<string, unknown> {
  const body: Record<string, unknown> = { Image: chance(0.8) ? TEST_IMAGE : pick(['busybox', 'scratch', '', `${TEST_IMAGE}@sha256:00`, 'sha256:00']) };
  if (chance(0.7)) body.Cmd = chance(0.8) ? ['sleep', '30'] : oddValue();
  body.Labels = { 'wgmtest.fuzz': tag, ...(chance(0.2) ? { 'io.wingman.worker': 'w2', 'IO.WINGMAN.WORKER': 'w2' } : {}) };
  if (chance(0.6)) {
    const hc: Record<string, unknown> = {};
    for (let i = int(3); i >= 0; i--) Object.assign(hc, pick(ESCALATING_HOSTCONFIG));
    body.HostConfig = chance(0.1) ? oddValue() : hc;
  }
  if (chance(0.1)) body.Volumes = { '/host': {} };
  if (chance(0.1)) body.User = pick(['0', 'root', '0:0']);
  if (chance(0.1)) body.Entrypoint = oddValue();
  if (chance(0.1)) body[pick(['hostconfig', 'HOSTCONFIG', 'hostConfig'])] = { Privileged: true };
  return body;
}

/** A JSON text with what a parser may read differently: duplicated keys (case-folded, escaped), odd numbers. */
function jsonText(value: unknown): string {
  let text = JSON.stringify(value, (_k, v) => (typeof v === 'string' ? v.replaceAll('__THEIRS__', theirs.name) : v)) ?? 'null';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return text;
  const extras = [
    '"HostConfig":{"Privileged":true}',
    '"hostconfig":{"privileged":true}',
    '"\\u0048ostConfig":{"\\u0050rivileged":true}',
    '"HostConfig":{"Binds":["/:/host"],"Binds":[]}',
    '"HostConfig":{"Privileged":false,"Privileged":true}',
    '"HostConfig":{"Privileged":true,"privileged":false}',
    '"HostConfig":{"Memory":1e400}',
    '"HostConfig":{"Memory":123456789012345678901234567890}',
    '"HostConfig":{"CpuShares":-1.5e-7}',
    '"Cmd":3.14',
    '"Image":null',
    '"Labels":{"io.wingman.worker":"w2"}',
    '"Name":"__THEIRS__"',
    '"Signal":"KILL"',
    '"Memory":-1',
    '"\\ud800":1',
    '"Privileged":true',
  ].map((s) => s.replaceAll('__THEIRS__', theirs.name));
  const n = int(3);
  for (let i = 0; i < n; i++) {
    const e = pick(extras);
    text = chance(0.5) ? text.replace(/^\{/, `{${e}${text.length > 2 ? ',' : ''}`) : text.replace(/\}$/, `${text.length > 2 ? ',' : ''}${e}}`);
  }
  const damage = int(14);
  if (damage === 0) text = '\ufeff' + text;
  else if (damage === 1) text = text.slice(0, int(text.length));
  else if (damage === 2) text = text + ' // comment';
  else if (damage === 3) text = text.replace(/\}$/, ',}');
  else if (damage === 4) text = `[${text}]`;
  else if (damage === 5) text = `${text}${text}`;
  else if (damage === 6) text = '['.repeat(5000) + ']'.repeat(5000);
  else if (damage === 7) text = text.replace(/"/g, "'");
  return text;
}

interface Base {
  method: string;
  path: string;
  query: Array<[string, string]>;
  body?: string | Buffer;
  contentType?: string;
}

/** A real Docker API call, mostly a destructive one, on one of the canaries; `shape` names it without the target. */
function baseCall(): Base & { shape: string } {
  const c = target();
  const e = encodeURIComponent(c);
  const b = callOn(c, e);
  return { ...b, shape: `${b.method} ${e === '' ? b.path : b.path.split(e).join('{c}')}` };
}

function callOn(c: string, e: string): Base {
  const k = int(32);
  switch (k) {
    case 0:
    case 1:
      return { method: 'DELETE', path: `/containers/${e}`, query: [['force', pick(['1', 'true', 'True', '0'])], ['v', '1']] };
    case 2:
    case 3:
      return { method: 'POST', path: `/containers/${e}/kill`, query: [['signal', pick(['KILL', 'SIGKILL', '9', 'TERM', '0', ''])]] };
    case 4:
      return { method: 'POST', path: `/containers/${e}/stop`, query: [['t', pick(['0', '-1', '1e9'])]] };
    case 5:
      return { method: 'POST', path: `/containers/${e}/restart`, query: [['t', '0']] };
    case 6:
      return { method: 'POST', path: `/containers/${e}/pause`, query: [] };
    case 7:
    case 8:
      return {
        method: 'POST', path: `/containers/${e}/exec`, query: [],
        body: jsonText({ Cmd: chance(0.8) ? ['sh', '-c', 'touch /pwned'] : oddValue(), Privileged: chance(0.3), User: chance(0.3) ? 'root' : undefined, AttachStdout: true }),
        contentType: 'application/json',
      };
    case 9:
      return { method: 'POST', path: '/commit', query: [['container', c], ['repo', `${tag}-commit`], ['changes', 'USER root']] };
    case 10:
    case 11:
      return { method: 'PUT', path: `/containers/${e}/archive`, query: [['path', pick(['/', '/tmp', '/etc', '../..'])], ['noOverwriteDirNonDir', '1']], body: tarLike(), contentType: 'application/x-tar' };
    case 12:
      return { method: 'GET', path: `/containers/${e}/archive`, query: [['path', '/etc/passwd']] };
    case 13:
      return { method: 'GET', path: `/containers/${e}/export`, query: [] };
    case 14:
      return { method: 'POST', path: `/${pick(['containers', 'volumes', 'networks', 'images', 'build'])}/prune`, query: chance(0.5) ? [['filters', pick(['{"label":["x"]}', '{"label":{"io.wingman.worker=w2":true}}', '{', '[]', '{"until":["0"]}'])]] : [] };
    case 15:
    case 16:
      return { method: 'POST', path: `/containers/${e}/update`, query: [], body: jsonText({ Memory: pick([0, 6, -1, 1e20]), RestartPolicy: { Name: 'always' }, CpuShares: oddValue() }), contentType: 'application/json' };
    case 17:
      return { method: 'POST', path: `/containers/${e}/rename`, query: [['name', newName()]] };
    case 18:
    case 19:
    case 20:
    case 21: {
      const q: Array<[string, string]> = chance(0.85) ? [['name', newName()]] : chance(0.5) ? [['name', theirs.name]] : [];
      return { method: 'POST', path: '/containers/create', query: q, body: jsonText(containerCreateBody()), contentType: 'application/json' };
    }
    case 22:
    case 23:
      return { method: 'POST', path: `/containers/${e}/start`, query: [], ...(chance(0.4) ? { body: jsonText({ Privileged: true, Binds: ['/:/host'] }), contentType: 'application/json' } : {}) };
    case 24:
      return {
        method: 'POST', path: '/volumes/create', query: [],
        body: jsonText({ Name: chance(0.8) ? newName() : theirs.name, Labels: { 'wgmtest.fuzz': tag }, ...(chance(0.5) ? { Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: pick(['/', '/etc', '/var/run']) } } : {}) }),
        contentType: 'application/json',
      };
    case 25:
      return {
        method: 'POST', path: '/networks/create', query: [],
        body: jsonText({ Name: newName(), Labels: { 'wgmtest.fuzz': tag }, ...(chance(0.4) ? { Driver: pick(['host', 'bridge', 'macvlan', 'none']) } : {}) }),
        contentType: 'application/json',
      };
    case 26:
      return { method: 'POST', path: `/containers/${e}/attach`, query: [['stream', '1'], ['stdin', '1'], ['stdout', '1']] };
    case 27:
      return { method: 'DELETE', path: `/images/${encodeURIComponent(pick([TEST_IMAGE, 'wingman-test/busybox', `${tag}-commit`]))}`, query: [['force', '1']] };
    case 28:
      return { method: 'POST', path: `/images/${encodeURIComponent(TEST_IMAGE)}/tag`, query: [['repo', pick([`${tag}-tag`, 'wingman-test/busybox'])], ['tag', pick(['latest', 'x'])]] };
    case 29:
      return { method: 'DELETE', path: `/volumes/${encodeURIComponent(pick([theirs.name, newName()]))}`, query: [['force', '1']] };
    case 30:
      return { method: 'GET', path: `/containers/${e}/json`, query: [] };
    default:
      return { method: pick(['GET', 'HEAD']), path: pick(['/_ping', '/version', '/info', '/containers/json', '/debug/pprof/', '/session', '/grpc']), query: [['all', '1']] };
  }
}

/** A few bytes that look like the start of a tar stream. */
function tarLike(): Buffer {
  const h = Buffer.alloc(512);
  h.write(pick(['pwned', '../../etc/cron.d/x', 'etc/passwd']), 0);
  h.write('0000644\0', 100);
  h.write('00000000004\0', 124);
  return Buffer.concat([h, Buffer.from('boom'), Buffer.alloc(chance(0.5) ? 1020 : int(600))]);
}

// --- mutations ---------------------------------------------------------------------------------------------------
function mutatePath(p: string): string {
  if (chance(0.45)) return `/v1.41${p}`;
  const version = pick(['/v1.41', '/v1.41', '/v1.44', '/v1.24', '/v1.12', '/v1.0', '/v99.99', '', '/V1.41', '/v1.41/v1.41', '/v1', '/v1.41.0', '/v-1', '//v1.41']);
  let out = version + p;
  const n = int(3);
  for (let i = 0; i < n; i++) {
    switch (int(14)) {
      case 0:
        out = out.replace(/\/(?=[^/]*$)/, '/./');
        break;
      case 1:
        out = out.replace(/\/containers\//, pick(['/containers/x/../', '/containers/%2e%2e/containers/', '/x/../containers/', '/containers/./']));
        break;
      case 2:
        out = out.replace(/\//g, () => (chance(0.3) ? '//' : '/'));
        break;
      case 3:
        out = out.replace(/[a-z]/g, (ch) => (chance(0.15) ? `%${ch.charCodeAt(0).toString(16)}` : ch));
        break;
      case 4:
        out = out.replace(/[a-z]/g, (ch) => (chance(0.15) ? `%${ch.charCodeAt(0).toString(16).toUpperCase()}` : ch));
        break;
      case 5:
        out = out.replace(/\/(?=[a-z]+$)/, pick(['%2F', '%2f', '%252F', '\\', '%5C']));
        break;
      case 6:
        out += pick(['/', '//', '/.', '%00', '%', '%zz', '#frag', ';x=1', '%20', '\u00e9', '..']);
        break;
      case 7:
        out = out.toUpperCase();
        break;
      case 8:
        out = pick(['http://docker', 'http://localhost:2375', 'HTTP://x', '//evil']) + out;
        break;
      case 9:
        out = out.replace(/containers/, pick(['Containers', 'container', 'containers ', 'c%6fntainers', 'containers%00']));
        break;
      case 10:
        out = out.replace(/\/[^/]+\/(kill|stop|exec|start|update|restart|pause|archive|attach)$/, (_m, v: string) => `/${encodeURIComponent(pick([theirs.name, mine.name]))}%2F..%2F${encodeURIComponent(theirs.name)}/${v}`);
        break;
      case 11:
        out = out.slice(0, int(out.length + 1)) || '/';
        break;
      case 12:
        out = pick(['*', '', ' ', '/' + 'a'.repeat(9000)]);
        break;
      default:
        out = out.replace(/\/v1\.\d+/, (v) => `${v}${pick(['/', '/.', '/../v1.41'])}`);
    }
  }
  return out;
}

function queryString(q: Array<[string, string]>): string {
  const parts = q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  const n = int(3);
  for (let i = 0; i < n; i++) {
    const extra = pick([
      'force=1', 'force=0', 'signal=KILL', 'v=1', 'link=1', `name=${encodeURIComponent(theirs.name)}`, `container=${encodeURIComponent(theirs.name)}`,
      'filters={"label":["io.wingman.worker=w2"]}', `filters=${encodeURIComponent('{"label":{"io.wingman.worker=w1":false}}')}`, 'filters=',
      'path=/', 'x', '=', '&&', 'a=%', `signal=${'9'.repeat(400)}`, 'stdin=1&stream=1', 'name=a&name=b',
    ]);
    if (chance(0.5)) parts.push(extra);
    else parts.unshift(extra);
  }
  if (parts.length === 0) return chance(0.1) ? '?' : '';
  return `?${parts.join(pick(['&', '&', '&', ';', '&&']))}`;
}

function chunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < body.length) {
    const n = Math.min(body.length - i, 1 + int(64));
    const size = pick([n.toString(16), n.toString(16).toUpperCase(), `0${n.toString(16)}`, `${n.toString(16)};ext=1`, `${n.toString(16)} `]);
    out.push(Buffer.from(`${size}\r\n`), body.subarray(i, i + n), Buffer.from('\r\n'));
    i += n;
  }
  out.push(Buffer.from(pick(['0\r\n\r\n', '0\r\n\r\n', '0\r\nX-Trailer: 1\r\n\r\n', '0\r\n', '', '-1\r\n\r\n', 'fffffffffffffffff\r\n'])));
  return Buffer.concat(out);
}

/** One request's bytes (sometimes two pipelined, sometimes not HTTP at all) and what it was built from. */
interface Req {
  kind: string;
  bytes: Buffer;
  halfClose: boolean;
  /** written in two pieces, cut here, a few ms apart (0: in one piece) */
  split: number;
}

function request(): Req {
  const r = build();
  return { ...r, split: r.bytes.length > 16 && chance(0.2) ? 1 + int(r.bytes.length - 1) : 0 };
}

function build(): Omit<Req, 'split'> {
  const shape = int(100);
  if (shape < 3) return { kind: 'garbage', bytes: bytes(1 + int(2048)), halfClose: chance(0.5) };
  if (shape < 5) {
    return { kind: 'h2-preface', bytes: Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), bytes(int(64))]), halfClose: chance(0.5) };
  }
  const base = baseCall();
  let method = base.method;
  if (chance(0.1)) method = pick(['delete', 'Post', 'PATCH', 'PROPFIND', 'OPTIONS', 'CONNECT', 'TRACE', 'HEAD', 'GET', 'PUT', 'POST', 'DELETE', 'M-SEARCH', 'G\u00c9T', '']);
  const pathPart = mutatePath(base.path) + queryString(base.query);
  const version = chance(0.9) ? 'HTTP/1.1' : pick(['HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 x', '', 'HTTP/0.9', 'HTTP/1.10']);
  let body: Buffer | undefined = base.body === undefined ? undefined : Buffer.from(base.body);
  if (!body && chance(0.15)) body = Buffer.from(jsonText(chance(0.5) ? containerCreateBody() : oddValue()));
  if (body && chance(0.05)) body = Buffer.concat([body, bytes(int(100))]);
  const headers: Array<[string, string]> = [];
  if (chance(0.95)) headers.push(['Host', pick(['docker', 'localhost', 'api.moby.localhost', '', '127.0.0.1:2375'])]);
  if (chance(0.05)) headers.push(['Host', 'other']);
  headers.push(['User-Agent', 'Docker-Client/27.0 (linux)']);
  let framing = 'length';
  if (body) {
    if (base.contentType || chance(0.5)) headers.push(['Content-Type', chance(0.85) ? (base.contentType ?? 'application/json') : pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'APPLICATION/JSON', ''])]);
    framing = pick(['length', 'length', 'length', 'chunked', 'chunked', 'cl-cl', 'cl-cl-same', 'cl-te', 'te-odd', 'cl-short', 'cl-long', 'none']);
  } else if (chance(0.1)) framing = pick(['cl-zero', 'te-empty', 'cl-cl']);
  const len = body?.length ?? 0;
  switch (framing) {
    case 'length':
      if (body) headers.push(['Content-Length', String(len)]);
      break;
    case 'chunked':
      headers.push(['Transfer-Encoding', 'chunked']);
      break;
    case 'cl-cl':
      headers.push(['Content-Length', String(len)], ['Content-Length', String(len + 1 + int(10))]);
      break;
    case 'cl-cl-same':
      headers.push(['Content-Length', String(len)], ['Content-Length', String(len)]);
      break;
    case 'cl-te':
      headers.push(['Content-Length', String(len)], ['Transfer-Encoding', 'chunked']);
      break;
    case 'te-odd':
      headers.push(['Transfer-Encoding', pick([' chunked', 'chunked, identity', 'identity, chunked', 'Chunked', 'chunked\t', 'xchunked', 'gzip, chunked'])]);
      break;
    case 'cl-short':
      headers.push(['Content-Length', String(Math.max(0, len - 1 - int(5)))]);
      break;
    case 'cl-long':
      headers.push(['Content-Length', String(len + 1 + int(1000))]);
      break;
    case 'cl-zero':
      headers.push(['Content-Length', pick(['0', '-1', '+5', '1e3', ' 3', '0x10', '99999999999999999999'])]);
      break;
    case 'te-empty':
      headers.push(['Transfer-Encoding', 'chunked']);
      break;
  }
  if (chance(0.08)) headers.push(['Connection', 'Upgrade'], ['Upgrade', pick(['tcp', 'h2c', 'websocket', 'tcp, h2c'])]);
  if (chance(0.03)) headers.push(['HTTP2-Settings', 'AAMAAABkAAQAAP__']);
  if (chance(0.05)) headers.push(['Expect', pick(['100-continue', 'x'])]);
  if (chance(0.05)) headers.push(['X-HTTP-Method-Override', 'DELETE']);
  if (chance(0.05)) headers.push(['X-Wingman-Approval', pick([`wgm_${randomToken()}`, `wgg_${randomToken()}`, '', 'x'.repeat(300)])]);
  if (chance(0.03)) headers.push(['X-Wingman-Worker', 'w2']);
  if (chance(0.03)) headers.push(['X-Forwarded-For', '127.0.0.1']);
  if (chance(0.03)) headers.push(['X-Registry-Auth', 'e30=']);
  if (chance(0.03)) headers.push(['X-Long', 'a'.repeat(pick([100, 20_000, 70_000]))]);
  const head = `${method} ${pathPart} ${version}`.replace(/ $/, '');
  const eol = chance(0.95) ? '\r\n' : pick(['\n', '\r', '\n\r']);
  let lines = headers.map(([k, v]) => `${k}: ${v}`);
  if (chance(0.03)) lines.push(pick(['NoColon', ' folded: continuation', 'Bad Header: x', 'Content-Length : 5', '\tTransfer-Encoding: chunked', ': empty-name']));
  if (chance(0.02)) lines = lines.reverse();
  let out = Buffer.concat([
    Buffer.from(`${head}${eol}${lines.join(eol)}${eol}${eol}`, 'latin1'),
    body ? (framing === 'chunked' || framing === 'cl-te' || framing === 'te-odd' ? chunked(body) : body) : Buffer.alloc(0),
    framing === 'te-empty' ? Buffer.from(pick(['0\r\n\r\n', 'zz\r\n', ''])) : Buffer.alloc(0),
  ]);
  let kind = base.shape;
  if (chance(0.06)) {
    out = out.subarray(0, int(out.length));
    kind = 'truncated';
  }
  if (chance(0.05)) {
    // Pipelined: a harmless call first, the real one right behind it on the same connection.
    out = Buffer.concat([Buffer.from('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n'), out]);
    kind = `pipelined ${kind}`;
  }
  return { kind, bytes: out, halfClose: chance(0.15) };
  function randomToken() {
    return Buffer.from(Array.from({ length: 24 }, () => int(256))).toString('base64url');
  }
}

// --- sending ---------------------------------------------------------------------------------------------------
interface Outcome {
  status?: number;
  error?: string;
  /** closed by the server without any answer */
  closed?: boolean;
}

function send(socketPath: string, r: Req): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let got = '';
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({}), ANSWER_WAIT_MS);
    sock.on('connect', () => {
      // Sometimes in pieces, as a slow client would.
      if (r.split) {
        sock.write(r.bytes.subarray(0, r.split));
        setTimeout(() => {
          if (!sock.destroyed) sock.write(r.bytes.subarray(r.split));
          if (r.halfClose && !sock.destroyed) sock.end();
        }, 10);
      } else {
        sock.write(r.bytes);
        if (r.halfClose) sock.end();
      }
    });
    sock.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) finish({ status: Number(m[1]) });
      else if (got.length > 64) finish({ status: -1 });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
    sock.on('close', () => finish({ closed: true }));
  });
}

function ping(socketPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', headers: { host: 'docker' }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

// --- looking at the engine -------------------------------------------------------------------------------------
interface Snapshot {
  id: string;
  running: boolean;
  paused: boolean;
  startedAt: string;
  name: string;
  execs: number;
  hostConfig: string;
}

async function snapshot(name: string): Promise<Snapshot | undefined> {
  const r = await docker(['inspect', '--type', 'container', name]);
  if (r.code !== 0) return undefined;
  const [c] = JSON.parse(r.stdout) as Array<{ Id: string; Name: string; State: { Running: boolean; Paused: boolean; StartedAt: string }; ExecIDs: string[] | null; HostConfig: unknown }>;
  return { id: c.Id, running: c.State.Running, paused: c.State.Paused, startedAt: c.State.StartedAt, name: c.Name, execs: c.ExecIDs?.length ?? 0, hostConfig: JSON.stringify(c.HostConfig) };
}

/** Every container, volume, network and image reference whose name carries this run's prefix. */
async function prefixed(): Promise<Set<string>> {
  const out = new Set<string>();
  const lines = async (args: string[]) => (await dockerOk(args)).split('\n').filter(Boolean);
  for (const l of await lines(['ps', '-a', '--filter', `name=${tag}`, '--format', '{{.ID}} {{.Names}}'])) out.add(`container ${l}`);
  for (const l of await lines(['ps', '-a', '--filter', `label=wgmtest.fuzz=${tag}`, '--format', '{{.ID}} {{.Names}}'])) out.add(`container ${l}`);
  for (const l of await lines(['volume', 'ls', '-q', '--filter', `name=${tag}`])) out.add(`volume ${l}`);
  for (const l of await lines(['network', 'ls', '--filter', `name=${tag}`, '--format', '{{.ID}} {{.Name}}'])) out.add(`network ${l}`);
  for (const l of await lines(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])) if (l.startsWith(tag)) out.add(`image ${l}`);
  return out;
}

/** Host access a container has that nobody approved. */
function escalations(hc: Record<string, unknown>): string[] {
  const bad: string[] = [];
  if (hc.Privileged) bad.push('privileged');
  if ((hc.Binds as unknown[] | null)?.length) bad.push(`binds ${JSON.stringify(hc.Binds)}`);
  if ((hc.Mounts as Array<{ Type: string }> | null)?.some((m) => m.Type === 'bind')) bad.push('bind mount');
  for (const k of ['NetworkMode', 'PidMode', 'IpcMode', 'UsernsMode', 'UTSMode']) {
    const v = asText(hc[k], '');
    if (v === 'host' || v.startsWith('container:')) bad.push(`${k}=${v}`);
  }
  if ((hc.CapAdd as unknown[] | null)?.length) bad.push(`CapAdd ${JSON.stringify(hc.CapAdd)}`);
  if ((hc.Devices as unknown[] | null)?.length) bad.push('devices');
  if ((hc.SecurityOpt as unknown[] | null)?.length) bad.push(`SecurityOpt ${JSON.stringify(hc.SecurityOpt)}`);
  if ((hc.VolumesFrom as unknown[] | null)?.length) bad.push('VolumesFrom');
  return bad;
}

// --- the run -----------------------------------------------------------------------------------------------------
const database = await createTestDatabase();
const db = new PgDb({ url: database.url });
const p = await spawnWingman({ databaseUrl: database.url, env: { WINGMAN_LOG_LEVEL: 'warn' } });
const canaryNames = [`${tag}-mine`, `${tag}-theirs`];
const created = new Set<string>();
try {
  const labels = Object.entries(testLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  for (const n of canaryNames) await dockerOk(['run', '-d', '--name', n, ...labels, TEST_IMAGE, 'sleep', '3600']);
  const res = await fetch(`${p.controlUrl}/workers/w1/adopt`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'container', refs: [canaryNames[0]], by: 'bench', force: true }),
  });
  if (res.status !== 200) throw new Error(`adopt: ${res.status} ${await res.text()}`);
  const before = { mine: (await snapshot(canaryNames[0]))!, theirs: (await snapshot(canaryNames[1]))! };
  mine = { name: canaryNames[0], id: before.mine.id };
  theirs = { name: canaryNames[1], id: before.theirs.id };
  const prefixedBefore = await prefixed();

  const socket = p.socketPath('w1');
  const byClass = new Map<string, number>();
  const byKind = new Map<string, Map<string, number>>();
  const errors = new Map<string, number>();
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let sent = 0;
  const t0 = Date.now();
  // The requests are generated in order from the seed before they are sent, so concurrency does not change them.
  const queue = Array.from({ length: COUNT }, () => request());
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= queue.length) return;
        const r = queue[i];
        const o = await send(socket, r);
        sent++;
        let cls: string;
        if (o.status !== undefined) cls = o.status < 0 ? 'not HTTP' : `${Math.floor(o.status / 100)}xx`;
        else if (o.error) {
          cls = 'conn error';
          count(errors, o.error);
        } else if (o.closed) {
          cls = 'closed, no answer';
        } else {
          cls = `no answer in ${ANSWER_WAIT_MS} ms`;
        }
        count(byClass, cls);
        if (dump) fs.appendFileSync(dump, JSON.stringify({ i, kind: r.kind, cls, status: o.status, halfClose: r.halfClose, split: r.split, bytes: r.bytes.toString('latin1') }) + '\n');
        const k = byKind.get(r.kind) ?? new Map<string, number>();
        byKind.set(r.kind, k);
        count(k, o.status !== undefined ? String(o.status) : cls);
        if (sent % 1000 === 0) console.error(`  ${sent} sent (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;

  // The process, then what it left behind.
  const alive = p.child.exitCode === null && p.child.signalCode === null;
  const pingStatus = await ping(socket);
  let pending = -1;
  const settleDeadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'`);
    pending = rows[0].n;
    if (pending === 0 || Date.now() > settleDeadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const { rows: stuck } = await db.query<{ id: string; rule: string; path: string; waiter: string | null; requested_at: Date; waiter_seen_at: Date | null }>(
    `SELECT id, rule, path, waiter, requested_at, waiter_seen_at FROM approvals WHERE status = 'pending' ORDER BY requested_at`,
  );
  const { rows: approvalRows } = await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM approvals GROUP BY status ORDER BY status`);
  const after = { mine: await snapshot(mine.name), theirs: await snapshot(theirs.name) };
  const canaryProblems: string[] = [];
  for (const [who, b, a] of [['adopted canary', before.mine, after.mine], ["someone else's canary", before.theirs, after.theirs]] as const) {
    if (!a) {
      canaryProblems.push(`${who} is gone`);
      continue;
    }
    if (a.id !== b.id) canaryProblems.push(`${who} has a new id`);
    if (!a.running) canaryProblems.push(`${who} is not running`);
    if (a.paused) canaryProblems.push(`${who} is paused`);
    if (a.startedAt !== b.startedAt) canaryProblems.push(`${who} was restarted`);
    if (a.name !== b.name) canaryProblems.push(`${who} was renamed to ${a.name}`);
    if (a.execs !== b.execs) canaryProblems.push(`${who} has ${a.execs - b.execs} new exec instance(s)`);
    if (a.hostConfig !== b.hostConfig) canaryProblems.push(`${who} has a changed HostConfig`);
  }

  // Objects: everything w1 made must be recorded as its own and have no host access; nothing else of ours may exist.
  const { rows: owned } = await db.query<{ kind: string; id: string; name: string | null }>(`SELECT kind, id, name FROM owned_objects WHERE source = 'created'`);
  for (const o of owned) created.add(`${o.kind} ${o.id}`);
  const ownedIds = new Set(owned.map((o) => o.id));
  const ownedNames = new Set(owned.map((o) => o.name ?? '').filter(Boolean));
  const prefixedAfter = await prefixed();
  const unaccounted = [...prefixedAfter].filter((o) => {
    if (prefixedBefore.has(o)) return false;
    const [kind, idOrName, name] = o.split(' ');
    if (kind === 'container') return ![...ownedIds].some((id) => id.startsWith(idOrName)) && !ownedNames.has(name);
    if (kind === 'network') return ![...ownedIds].some((id) => id.startsWith(idOrName));
    if (kind === 'image') return ![...ownedIds].some((id) => id.includes(idOrName.replace(/:latest$/, '')));
    return !ownedIds.has(idOrName);
  });
  const escalated: string[] = [];
  for (const o of owned.filter((x) => x.kind === 'container')) {
    const r = await docker(['inspect', '--type', 'container', o.id]);
    if (r.code !== 0) continue;
    const [c] = JSON.parse(r.stdout) as Array<{ Name: string; HostConfig: Record<string, unknown> }>;
    const bad = escalations(c.HostConfig);
    if (bad.length) escalated.push(`${c.Name}: ${bad.join(', ')}`);
  }
  const { rows: audit } = await db.query<{ decision: string; n: number }>(`SELECT decision, count(*)::int AS n FROM docker_audit GROUP BY decision ORDER BY n DESC`);
  const { rows: reasons } = await db.query<{ decision: string; status_code: number | null; reason: string; n: number }>(
    `SELECT decision, status_code, left(coalesce(reason, ''), 90) AS reason, count(*)::int AS n FROM docker_audit
      WHERE decision <> 'allow' GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 12`,
  );
  const { rows: fives } = await db.query<{ rule: string; status_code: number; n: number; path: string; reason: string | null }>(
    `SELECT rule, status_code, count(*)::int AS n, min(path) AS path, min(reason) AS reason FROM docker_audit WHERE status_code >= 500 GROUP BY rule, status_code ORDER BY n DESC`,
  );
  const crashLines = p.output().split('\n').filter((l) => /uncaught|unhandled|FATAL|"level":60/i.test(l));

  console.log(`fuzz: seed ${SEED}, concurrency ${CONCURRENCY}, ${sent} requests in ${secs.toFixed(0)} s (${(sent / secs).toFixed(0)}/s)`);
  console.log(`answers: ${[...byClass].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (errors.size) console.log(`connection errors: ${[...errors].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log('by request shape (status: count):');
  for (const [k, m] of [...byKind].sort((a, b) => a[0].localeCompare(b[0]))) {
    console.log(`  ${k.padEnd(40)} ${[...m].sort().map(([s, n]) => `${s}:${n}`).join(' ')}`);
  }
  console.log(`audit rows by decision: ${audit.map((r) => `${r.decision} ${r.n}`).join(', ')}`);
  console.log('most frequent refusals (audit):');
  for (const r of reasons) console.log(`  ${String(r.n).padStart(5)} ${r.decision} ${r.status_code ?? '-'} ${r.reason}`);
  console.log(`audit rows with status >= 500: ${fives.length ? '' : 'none'}`);
  for (const f of fives) console.log(`  ${f.rule} ${f.status_code} x${f.n} e.g. ${f.path.slice(0, 100)} (${(f.reason ?? '').slice(0, 160)})`);
  console.log(`process: ${alive ? 'alive' : `exited ${p.child.exitCode ?? p.child.signalCode}`}, /_ping after: ${pingStatus}, crash lines in its log: ${crashLines.length}`);
  if (!alive || crashLines.length) {
    const out = p.output().split('\n');
    const at = out.findIndex((l) => /uncaught|unhandled|FATAL|"level":60/i.test(l));
    for (const l of out.slice(Math.max(0, at - 15), at + 25)) console.log(`  | ${l.slice(0, 300)}`);
  }
  console.log(`approvals by status: ${approvalRows.map((r) => `${r.status} ${r.n}`).join(', ') || 'none'}; pending after the run: ${pending}`);
  for (const a of stuck.slice(0, 10)) {
    console.log(`  pending: ${a.id} ${a.rule} ${a.path.slice(0, 120)} requested ${a.requested_at.toISOString()} waiter ${a.waiter} seen ${a.waiter_seen_at?.toISOString() ?? 'never'}`);
  }
  console.log(`canaries: ${canaryProblems.length ? canaryProblems.join('; ') : 'both present, running, same id, same start, no new exec, same HostConfig'}`);
  console.log(`objects w1 created (recorded as its own): ${owned.length} (${['container', 'volume', 'network', 'image', 'exec'].map((k) => `${owned.filter((o) => o.kind === k).length} ${k}`).join(', ')}); with host access: ${escalated.length}; prefixed objects not recorded: ${unaccounted.length}`);
  for (const e of escalated.slice(0, 10)) console.log(`  escalated: ${e}`);
  for (const u of unaccounted.slice(0, 10)) console.log(`  unaccounted: ${u}`);

  const failed: string[] = [];
  if (!alive || pingStatus !== 200) failed.push('crash');
  if (crashLines.length) failed.push(`${crashLines.length} crash lines`);
  if (canaryProblems.length || escalated.length || unaccounted.length) failed.push('ESCALATION');
  if (approvalRows.some((r) => r.status === 'approved' || r.status === 'consumed')) failed.push('an approval was spent');
  if (pending !== 0) failed.push(`${pending} approvals left pending`);
  if (fives.length) failed.push(`${fives.reduce((s, f) => s + f.n, 0)} answers >= 500`);
  console.log(failed.length ? `fuzz: ${sent} requests, FAILED: ${failed.join(', ')}` : `fuzz: ${sent} requests, no crash, no escalation`);
} finally {
  await p.close();
  for (const n of canaryNames) await docker(['rm', '-f', n]);
  for (const o of created) {
    const [kind, id] = o.split(' ');
    if (kind === 'container') await docker(['rm', '-f', id]);
  }
  for (const o of created) {
    const [kind, id] = o.split(' ');
    if (kind === 'volume') await docker(['volume', 'rm', '-f', id]);
    if (kind === 'network') await docker(['network', 'rm', id]);
    if (kind === 'image' && id !== TEST_IMAGE && id !== `docker.io/${TEST_IMAGE}`) await docker(['rmi', id]);
  }
  for (const o of await prefixed().catch(() => new Set<string>())) {
    const [kind, id] = o.split(' ');
    if (kind === 'container') await docker(['rm', '-f', id]);
    else if (kind === 'volume') await docker(['volume', 'rm', '-f', id]);
    else if (kind === 'network') await docker(['network', 'rm', id]);
    else if (kind === 'image') await docker(['rmi', id]);
  }
  await db.close();
  await database.drop();
}
