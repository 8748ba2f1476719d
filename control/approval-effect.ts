// The whole effect of a held call in words, from the operation the approval is bound to (its redacted op): the
// command an exec runs, the image and mounts of a container, the signal of a kill, the filters of a prune, and
// always the op hash. The console and `wingman approvals` show these lines as they are; what an approver reads is
// what the hash binds. Values come from the worker's request: they are shown as data (single line, capped),
// never interpreted.
import type { EffectLine } from './api-schema.js';
import { asText } from '../core/util/as-text.js';

const MAX = 600;

function oneLine(s: string): string {
  // Newlines and invisible or direction-changing characters could make one value look like two lines or hide text.
  const flat = s.replace(/\r\n|\r|\n/g, '⏎').replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, '�');
  return flat.length > MAX ? `${flat.slice(0, MAX - 1)}…` : flat;
}

/** argv as a shell would need it typed: words with spaces or quotes are single-quoted. */
export function shellWords(argv: unknown[]): string {
  return argv
    .map((a) => String(a))
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's JSON is case-insensitive on keys: read a field the way dockerd would find it. */
function field(o: unknown, name: string): unknown {
  if (!isObj(o)) return undefined;
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  const k = Object.keys(o).reverse().find((x) => x.toLowerCase() === lower);
  return k === undefined ? undefined : o[k];
}

function asList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  if (typeof v === 'string' && v !== '') return [v];
  return [];
}

function queryValue(query: unknown, key: string): string | undefined {
  if (!Array.isArray(query)) return undefined;
  const entries: unknown[] = query;
  const hit = entries.find((p): p is unknown[] => Array.isArray(p) && String(p[0]).toLowerCase() === key.toLowerCase());
  return hit ? String(hit[1]) : undefined;
}

function filtersText(raw: string): string {
  try {
    const f = JSON.parse(raw) as Record<string, unknown>;
    const parts: string[] = [];
    for (const [k, v] of Object.entries(f)) {
      const values = Array.isArray(v) ? v : isObj(v) ? Object.keys(v) : [String(v)];
      for (const x of values) parts.push(`${k}=${String(x)}`);
    }
    return parts.length ? parts.join(', ') : 'none';
  } catch {
    return raw;
  }
}

function mounts(hostConfig: unknown, body: unknown): string[] {
  const out: string[] = [];
  for (const b of asList(field(hostConfig, 'Binds'))) out.push(b);
  const ms = field(hostConfig, 'Mounts');
  if (Array.isArray(ms)) {
    for (const m of ms) {
      const type = asText(field(m, 'Type'), 'volume');
      const src = asText(field(m, 'Source'), '');
      const dst = asText(field(m, 'Target'), '');
      out.push(`${type} ${src || '(anonymous)'} → ${dst}${field(m, 'ReadOnly') ? ' (read-only)' : ''}`);
    }
  }
  for (const v of Object.keys(isObj(field(body, 'Volumes')) ? (field(body, 'Volumes') as object) : {})) out.push(`anonymous volume → ${v}`);
  return out;
}

/** The lines for one approval. `op` is the redacted operation stored with it. */
export function approvalEffect(a: { summary: string; rule: string; method: string; route: string; path: string; op_hash: string; op: Record<string, unknown>; reasons: string[] }): EffectLine[] {
  const lines: EffectLine[] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '') return;
    lines.push({ label, value: oneLine(typeof value === 'string' ? value : JSON.stringify(value)) });
  };
  const op = a.op ?? {};
  add('Wants to', a.summary);

  if (op.kind === 'shell') {
    // A shell-wrapper grant: one decision for a whole docker command line.
    add('Command', `$ ${asText(op.command, a.path)}`);
    const scope = isObj(op.scope) ? op.scope : {};
    for (const [rule, s] of Object.entries(scope)) {
      const uses = field(s, 'uses');
      const targets = field(s, 'targets');
      add('May call', `${rule} ×${String(uses)}${Array.isArray(targets) && targets.length ? ` on ${targets.join(', ')}` : ''}`);
      const hp = field(s, 'host_paths');
      if (Array.isArray(hp) && hp.length) add('Host paths', hp.join(', '));
      const esc = field(s, 'escalations');
      if (Array.isArray(esc) && esc.length) add('Escalations', esc.join(', '));
    }
    if (op.grant_ttl_s !== undefined) add('Usable for', `${asText(op.grant_ttl_s)} s after the decision`);
  } else {
    const body = op.body;
    const params = isObj(op.params) ? (op.params as Record<string, string>) : {};
    const target = Object.values(params)[0];
    const query = op.query;
    switch (a.rule) {
      case 'ContainerExec': {
        add('Container', target);
        const cmd = field(body, 'Cmd');
        add('Command', Array.isArray(cmd) ? `$ ${shellWords(cmd)}` : '(the image default)');
        add('As user', field(body, 'User'));
        add('Working dir', field(body, 'WorkingDir'));
        if (field(body, 'Privileged') === true) add('Privileged', 'yes: full access to the host devices');
        const env = asList(field(body, 'Env'));
        if (env.length) add('Environment', env.join(' '));
        add('Stdin', field(body, 'AttachStdin') === true ? 'attached' : undefined);
        break;
      }
      case 'ContainerCreate':
      case 'ContainerStart': {
        const hc = field(body, 'HostConfig');
        add('Image', field(body, 'Image'));
        const ep = field(body, 'Entrypoint');
        if (Array.isArray(ep)) add('Entrypoint', shellWords(ep));
        const cmd = field(body, 'Cmd');
        if (Array.isArray(cmd)) add('Command', `$ ${shellWords(cmd)}`);
        const name = queryValue(query, 'name');
        add('Name', name);
        const m = mounts(hc, body);
        if (m.length) add('Mounts', m.join('; '));
        if (field(hc, 'Privileged') === true) add('Privileged', 'yes: full access to the host devices');
        const caps = asList(field(hc, 'CapAdd'));
        if (caps.length) add('Adds capabilities', caps.join(', '));
        for (const k of ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'Runtime']) {
          const v = field(hc, k);
          if (typeof v === 'string' && v !== '' && v !== 'default') add(k.replace(/Mode$/, ' mode'), v);
        }
        const dev = field(hc, 'Devices');
        if (Array.isArray(dev) && dev.length) add('Devices', dev.map((d) => asText(field(d, 'PathOnHost'), JSON.stringify(d))).join(', '));
        add('As user', field(body, 'User'));
        if (a.rule === 'ContainerStart') add('Container', target);
        break;
      }
      case 'ContainerKill':
        add('Container', target);
        add('Signal', queryValue(query, 'signal') ?? 'SIGKILL (the default)');
        break;
      case 'ContainerStop':
      case 'ContainerRestart':
        add('Container', target);
        add('Signal', queryValue(query, 'signal'));
        add('Grace period', queryValue(query, 't') ? `${queryValue(query, 't')} s` : undefined);
        break;
      case 'ContainerDelete':
        add('Container', target);
        add('Force', ['1', 'true'].includes(queryValue(query, 'force') ?? '') ? 'yes (a running container is killed)' : undefined);
        add('Its volumes', ['1', 'true'].includes(queryValue(query, 'v') ?? '') ? 'removed too' : undefined);
        break;
      case 'ContainerPrune':
      case 'ImagePrune':
      case 'VolumePrune':
      case 'NetworkPrune':
      case 'BuildPrune': {
        const f = queryValue(query, 'filters');
        add('Filters', f ? filtersText(f) : 'none (everything unused)');
        break;
      }
      case 'ContainerArchive':
      case 'PutContainerArchive':
        add('Container', target);
        add('Path in container', queryValue(query, 'path'));
        break;
      default:
        if (target) add(a.rule.startsWith('Image') ? 'Image' : a.rule.startsWith('Volume') ? 'Volume' : a.rule.startsWith('Network') ? 'Network' : 'Object', target);
        if (Array.isArray(query) && query.length) add('Options', query.map((p) => (Array.isArray(p) ? `${p[0]}=${p[1]}` : String(p))).join(', '));
    }
    const raw = op.raw_body;
    if (isObj(raw)) add('Body', `${String(raw.bytes)} bytes, sha256 ${String(raw.sha256)}`);
    add('Call', `${a.method} ${a.path}`);
  }
  add('Rule', a.rule);
  add('Op hash', a.op_hash);
  return lines;
}
