// The owner label, and the two rewrites that make it work: creates are stamped with it (whatever the worker sent
// under that key is replaced), and lists, prunes and events are scoped to it so dockerd itself leaves out other
// tenants' objects. The label is a filter, never the proof: the store says who owns what (ownership.ts).
import { wingmanError } from '../errors.js';
import { field, isObj, type JObj, type JVal } from '../policy/go-json.js';
import type { Scope } from '../policy/docker-rules.js';

export const OWNER_LABEL = 'io.wingman.worker';

/** Labels in Wingman's namespace, whatever their case: a worker may not set any of them. */
const isOurs = (key: string) => key.toLowerCase().startsWith('io.wingman.');

function stampedLabels(existing: JVal | undefined, worker: string): JObj {
  const out = Object.create(null) as JObj;
  if (isObj(existing)) for (const k of Object.keys(existing)) if (!isOurs(k)) out[k] = existing[k]!;
  out[OWNER_LABEL] = worker;
  return out;
}

/** Set a struct field the way Go will read it: whatever case the sender used, one key remains. */
function setField(obj: JObj, name: string, value: JVal): void {
  for (const k of Object.keys(obj)) if (k.toUpperCase() === name.toUpperCase()) delete obj[k];
  obj[name] = value;
}

/** The body to forward for a create, with the worker's owner label (a body is made when none was sent). */
export function stampBody(ruleId: string, body: JVal | undefined, worker: string): JVal | undefined {
  if (!['ContainerCreate', 'VolumeCreate', 'NetworkCreate'].includes(ruleId)) return body;
  const obj = (isObj(body) ? Object.assign(Object.create(null), body) : Object.create(null)) as JObj;
  if (body !== undefined && body !== null && !isObj(body)) return body; // dockerd refuses it; nothing to stamp
  setField(obj, 'Labels', stampedLabels(field(obj, 'Labels'), worker));
  return obj;
}

function badFilters(detail: string): never {
  throw wingmanError('WGM_ERR_PROXY_BAD_PATH', `filters: ${detail}`);
}

/** Docker's filter argument in either of its JSON shapes, as a map of sets. */
export function parseFilters(raw: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (raw === '') return out;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    badFilters('not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) badFilters('expected a JSON object');
  for (const [k, vals] of Object.entries(v as Record<string, unknown>)) {
    const set = new Set<string>();
    if (Array.isArray(vals)) {
      for (const x of vals) {
        if (typeof x !== 'string') badFilters(`values of ${k.slice(0, 40)} must be strings`);
        set.add(x);
      }
    } else if (typeof vals === 'object' && vals !== null) {
      for (const [x, on] of Object.entries(vals)) {
        if (typeof on !== 'boolean') badFilters(`values of ${k.slice(0, 40)} must be true`);
        if (on) set.add(x);
      }
    } else badFilters(`values of ${k.slice(0, 40)} must be a list or a map`);
    out.set(k, set);
  }
  return out;
}

export function encodeFilters(f: Map<string, Set<string>>): string {
  const o: Record<string, Record<string, boolean>> = {};
  for (const [k, set] of f) {
    o[k] = {};
    for (const v of set) o[k][v] = true;
  }
  return JSON.stringify(o);
}

/**
 * A prune or event stream limited to the worker's own objects: the owner label is added to its filters
 * (dockerd ANDs label filters, so nothing the worker adds can widen it). Go reads the first `filters` value; the
 * rewritten query has exactly one. Images are shared for reading, so image lists are not scoped; image prunes are.
 */
export function scopeQuery(
  rule: { method: string; scope?: Scope },
  query: Array<[string, string]>,
  worker: string,
  opts: { labelLists?: boolean } = {},
): Array<[string, string]> {
  const { scope } = rule;
  // Lists are cut down by the store (proxy/owned-results.ts) in any case. The label narrows them in dockerd too,
  // unless ops adopted objects for the worker (those carry no label). Prunes and the event stream can only be
  // scoped by dockerd, by the label.
  if (scope === undefined || scope === 'df') return query;
  if (rule.method === 'GET' && scope !== 'events' && !opts.labelLists) return query;
  const first = query.find(([k]) => k === 'filters');
  const filters = parseFilters(first?.[1] ?? '');
  const labels = filters.get('label') ?? new Set<string>();
  labels.add(`${OWNER_LABEL}=${worker}`);
  filters.set('label', labels);
  return [...query.filter(([k]) => k !== 'filters'), ['filters', encodeFilters(filters)]];
}

/** Build: images built through a worker's socket carry its label too (an image prune is scoped to it). */
export function stampBuildQuery(query: Array<[string, string]>, worker: string): Array<[string, string]> {
  const first = query.find(([k]) => k === 'labels');
  let labels: Record<string, unknown> = {};
  if (first && first[1] !== '') {
    try {
      const v = JSON.parse(first[1]) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) labels = v as Record<string, unknown>;
      else throw new Error('not an object');
    } catch {
      throw wingmanError('WGM_ERR_PROXY_BAD_PATH', 'labels: expected a JSON object of strings');
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(labels)) if (!isOurs(k)) out[k] = v;
  out[OWNER_LABEL] = worker;
  return [...query.filter(([k]) => k !== 'labels'), ['labels', JSON.stringify(out)]];
}
