// The JSON bodies the proxy reads are checked against the Docker Engine API's types before anything else is done
// with them. dockerd decodes a body with Go's encoding/json, and a type it cannot decode (`"HostConfig": []`,
// `"Cmd": 3.14`, a top-level array, an empty create) comes back as a 500: the proxy answers 400 instead, in Docker's
// error shape, and such a body never reaches the engine.
//
// The schema (engine-api-v1.41.json) is generated from moby's swagger by scripts/gen-engine-schema.mjs and keeps
// only what Go's decoder enforces. What a JSON schema cannot say about Go is done here, on the canonical document
// the proxy forwards (core/policy/go-json.ts): struct field names match case-insensitively (keys are folded to the
// schema's names; unknown fields are dropped, as Go ignores them), map keys are exact, and an integer field takes
// only an integer literal within its Go type (`1.0`, `1e3` and 2^63 are refused by Go, though JSON numbers).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { wingmanError } from '../errors.js';
import { GoNumber, isObj, type JVal } from '../policy/go-json.js';
import engineApi from './engine-api-v1.41.json' with { type: 'json' };

interface Schema {
  type?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  goInt?: string;
  $ref?: string;
}

interface Body {
  required: boolean;
  schema: Schema;
}

const API = engineApi as unknown as { apiVersion: string; bodies: Record<string, Body>; definitions: Record<string, Schema> };
const ID = 'wingman:engine-api';

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Number literals of the document being checked, by JSON pointer (validation is synchronous: one at a time). */
let literals = new Map<string, string>();

function goIntOk(format: string, raw: string): boolean {
  if (!/^-?\d+$/.test(raw)) return false;
  const [lo, hi] = INT_RANGE[format] ?? INT_RANGE.int64;
  const n = BigInt(raw);
  return n >= lo && n <= hi;
}

// Start-up cost: each definition compiled once and shared (inlineRefs: false; HostConfig is in create, update and
// commit), and ajv's code optimiser off: compiling all bodies took 0.6-0.8 s instead of 1.5-2.2 s (2 busy cores).
const ajv = new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true, strict: true, inlineRefs: false, code: { optimize: false } });
ajv.addKeyword({
  keyword: 'goInt',
  type: 'number',
  schemaType: 'string',
  validate: (format: string, data: number, _parent: unknown, cxt?: { instancePath: string }) =>
    goIntOk(format, literals.get(cxt?.instancePath ?? '') ?? String(data)),
});
ajv.addSchema({
  $id: ID,
  definitions: {
    ...API.definitions,
    ...Object.fromEntries(Object.entries(API.bodies).map(([op, b]) => [`body.${op}`, b.schema])),
  },
});
// Compiled once, at load.
const validators = new Map<string, ValidateFunction>(
  Object.keys(API.bodies).map((op) => [op, ajv.getSchema(`${ID}#/definitions/body.${op}`)!]),
);

function resolve(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur?.$ref && i < 32; i++) cur = API.definitions[cur.$ref.slice('#/definitions/'.length)];
  return cur;
}

const folds = new WeakMap<Schema, Map<string, string>>();
function foldedNames(s: Schema): Map<string, string> {
  let m = folds.get(s);
  if (!m) {
    m = new Map(Object.keys(s.properties ?? {}).map((k) => [k.toUpperCase(), k]));
    folds.set(s, m);
  }
  return m;
}

const pointer = (k: string) => (k.includes('~') || k.includes('/') ? k.replace(/~/g, '~0').replace(/\//g, '~1') : k);

/** `out[k] = v`, also for a key named __proto__ (a plain assignment would set the prototype instead). */
function put(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/** The document as Go will decode it into the schema's types, in plain JS for the validator. */
function plain(v: JVal, s: Schema | undefined, at: string): unknown {
  if (v instanceof GoNumber) {
    const n = Number(v.raw);
    // The literal matters where the number does not say it all: 1.0, 1e3, digits beyond a double's precision.
    if (String(n) !== v.raw) literals.set(at, v.raw);
    return n;
  }
  const r = resolve(s);
  if (Array.isArray(v)) return v.map((x, i) => plain(x, r?.items, `${at}/${i}`));
  if (!isObj(v)) return v;
  const out: Record<string, unknown> = {};
  if (r?.properties) {
    // A struct: Go matches field names case-insensitively and ignores unknown ones.
    const names = foldedNames(r);
    for (const k of Object.keys(v)) {
      const name = names.get(k.toUpperCase());
      if (name === undefined) continue;
      if (Object.hasOwn(out, name)) throw bodyType(`fields named ${name} twice, in different case`);
      out[name] = plain(v[k], r.properties[name], `${at}/${pointer(name)}`);
    }
  } else {
    // A map (exact keys) or a free-form object.
    for (const k of Object.keys(v)) put(out, k, plain(v[k], r?.additionalProperties, `${at}/${pointer(k)}`));
  }
  return out;
}

let current = '';
function bodyType(detail: string) {
  return wingmanError('WGM_ERR_PROXY_BODY_TYPE', `${current}: ${detail}`);
}

const A: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', boolean: 'true or false', integer: 'a whole number', number: 'a number', null: 'null' };

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return 'an object';
}

function describe(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const where = parts.length === 0 ? 'the body' : parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  if (e.keyword === 'type') {
    const want = ([] as string[]).concat(e.params.type as string | string[]).filter((t) => t !== 'null');
    return `${where} must be ${want.map((t) => A[t] ?? t).join(' or ')} (or null), not ${jsonType(e.data)}`;
  }
  if (e.keyword === 'goInt') {
    const raw = literals.get(e.instancePath) ?? String(e.data);
    return `${where} must be a whole number that fits Go's ${String(e.schema)}, not ${raw}`;
  }
  return `${where} ${e.message ?? 'is invalid'}`;
}

/**
 * Check a body the proxy read for Docker Engine API operation `op` (a rule id, which is the swagger operationId).
 * `body` undefined means none was sent (or only whitespace). Throws WGM_ERR_PROXY_BODY_TYPE (400) naming the field,
 * what Go wants there and what was sent. Operations without a JSON body in the API are not checked.
 */
export function checkEngineBody(op: string, body: JVal | undefined): void {
  const spec = API.bodies[op];
  const validate = validators.get(op);
  if (!spec || !validate) return;
  current = `Docker Engine API v${API.apiVersion} ${op}`;
  if (body === undefined) {
    if (spec.required) throw bodyType('a JSON body is required');
    return;
  }
  literals = new Map();
  try {
    const doc = plain(body, spec.schema, '');
    if (!validate(doc)) throw bodyType(validate.errors?.[0] ? describe(validate.errors[0]) : 'invalid');
  } finally {
    literals = new Map();
  }
}
