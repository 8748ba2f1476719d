#!/usr/bin/env node
// Generates core/docker/engine-api-v1.41.json: the JSON request bodies of the Docker Engine API, as types only,
// from moby's swagger (api/docs/v1.41.yaml in github.com/moby/moby; v1.41 is what dockerd 20.10 speaks).
//
//   node scripts/gen-engine-schema.mjs path/to/v1.41.yaml [source-label] > core/docker/engine-api-v1.41.json
//
// The proxy refuses a body that dockerd's Go decoder would refuse (dockerd answers those with a 500), and nothing
// else. So the schema keeps only what encoding/json enforces while decoding, and drops what it does not:
//  - types, properties, map values (additionalProperties), array items; allOf branches are merged into one object;
//  - null is accepted everywhere (Go leaves the field as it is, or sets a pointer/map/slice to nil);
//  - unknown fields are accepted (Go ignores them), and no field is required (dockerd checks meaning itself, 400);
//  - enum, pattern, minimum/maximum, lengths, formats of strings are dropped (not checked by the decoder);
//  - integer formats become `goInt` (int64 unless the swagger says uint8/16/32/64): Go refuses a fraction, an
//    exponent or an out-of-range literal for an integer field, which a JSON-schema `integer` cannot see.
// Where the swagger's type is not the Go type dockerd decodes into, GO_TYPES below says so.
import fs from 'node:fs';
import YAML from 'yaml';

const [file, source = file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/gen-engine-schema.mjs path/to/v1.41.yaml [source-label]');
  process.exit(2);
}
const spec = YAML.parse(fs.readFileSync(file, 'utf8'));

// strslice.StrSlice (api/types/strslice): a JSON string or an array of strings. The swagger says array only, and
// `"Cmd": "echo hi"` is accepted by dockerd.
const STR_SLICE = { type: ['string', 'array', 'null'], items: { type: ['string', 'null'] } };
function uint(format) {
  return { type: ['integer', 'null'], goInt: format };
}
const GO_TYPES = {
  'ContainerConfig.Cmd': STR_SLICE,
  'ContainerConfig.Entrypoint': STR_SLICE,
  'ContainerConfig.Shell': STR_SLICE,
  'HostConfig.CapAdd': STR_SLICE,
  'HostConfig.CapDrop': STR_SLICE,
  // Unsigned Go integers the swagger leaves as plain `integer` (a negative value fails to decode).
  'Resources.BlkioWeight': uint('uint16'),
  'Resources.BlkioWeightDevice[].Weight': uint('uint16'),
  'Resources.IOMaximumIOps': uint('uint64'),
  'Resources.IOMaximumBandwidth': uint('uint64'),
  'ThrottleDevice.Rate': uint('uint64'),
  'HostConfig.ConsoleSize[]': uint('uint64'),
  'Mount.TmpfsOptions.Mode': uint('uint32'),
};

const INT_FORMATS = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);
const used = new Set();

function ref(r) {
  const name = r.replace('#/definitions/', '');
  if (!spec.definitions[name]) throw new Error(`unknown definition ${r}`);
  used.add(name);
  return name;
}

function convert(s, where) {
  if (s.$ref) return { $ref: `#/definitions/${ref(s.$ref)}` };
  if (s.allOf) {
    // One branch: a described reference. More: the Engine API composes object types (ContainerConfig +
    // HostConfig + NetworkingConfig for a create), merged into one object here; each branch keeps its own name
    // for GO_TYPES.
    if (s.allOf.length === 1 && !s.properties) return convert(s.allOf[0], where);
    const out = { type: ['object', 'null'], properties: {} };
    for (const part of [...s.allOf, { properties: s.properties ?? {} }]) {
      const name = part.$ref ? ref(part.$ref) : undefined;
      const c = convert(name ? spec.definitions[name] : part, name ?? where);
      Object.assign(out.properties, c.properties ?? {});
      if (c.additionalProperties) out.additionalProperties = c.additionalProperties;
    }
    return out;
  }
  const out = {};
  if (s.type) {
    out.type = [s.type, 'null'];
    if (s.type === 'integer') out.goInt = INT_FORMATS.has(s.format) ? s.format : 'int64';
  }
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) {
      out.properties[k] = GO_TYPES[`${where}.${k}`] ?? convert(v, `${where}.${k}`);
    }
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    out.additionalProperties = convert(s.additionalProperties, `${where}.*`);
  }
  if (s.items) out.items = GO_TYPES[`${where}[]`] ?? convert(s.items, `${where}[]`);
  return out;
}

const bodies = {};
for (const [route, ops] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    const p = (op.parameters ?? []).find((x) => x.in === 'body');
    if (!p || !op.operationId) continue;
    const consumes = op.consumes ?? spec.consumes ?? [];
    // Tar streams and other raw bodies (build contexts, archives, image loads) are not JSON.
    if (p.schema?.type === 'string' || (consumes.length && !consumes.some((c) => c.includes('json')))) continue;
    bodies[op.operationId] = { method: method.toUpperCase(), route, required: p.required === true, schema: convert(p.schema, op.operationId) };
  }
}

// Definitions reached from the bodies, converted until no new name appears.
const definitions = {};
for (let grew = true; grew; ) {
  grew = false;
  for (const name of [...used]) {
    if (definitions[name]) continue;
    definitions[name] = convert(spec.definitions[name], name);
    grew = true;
  }
}
const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
process.stdout.write(
  JSON.stringify(
    {
      $comment: 'generated by scripts/gen-engine-schema.mjs: do not edit',
      source,
      apiVersion: spec.info.version,
      bodies: Object.fromEntries(Object.keys(bodies).sort().map((k) => [k, bodies[k]])),
      definitions: sorted,
    },
    null,
    1,
  ) + '\n',
);
