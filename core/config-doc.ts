// docs/configuration.md, generated from the config schema (core/config.ts): every variable, its default, what it
// accepts and what it is for. scripts/gen-config-doc.mjs writes it; test/docs/config-doc.test.ts checks that the
// file is what this generates, so a variable added to the schema without its line in the docs fails the tests.
import { z } from 'zod';
import { configSchema } from './config.js';
import { asText } from './util/as-text.js';

interface VariableSchema {
  description?: string;
  default?: unknown;
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function accepts(v: VariableSchema): string {
  if (v.enum) return v.enum.map((e) => `\`${String(e)}\``).join(', ');
  if (v.type === 'integer' || v.type === 'number') {
    const range = v.minimum !== undefined && v.maximum !== undefined ? ` ${v.minimum}–${v.maximum}` : '';
    return `integer${range}`;
  }
  return 'text';
}

function defaultOf(v: VariableSchema): string {
  if (v.default === undefined || v.default === '') return '—';
  return `\`${asText(v.default)}\``;
}

export function configReference(): string {
  const json = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, VariableSchema> };
  const rows = Object.entries(json.properties).map(([name, v]) => {
    if (!v.description) throw new Error(`${name} has no description in core/config.ts (.describe(...))`);
    return `| \`${name}\` | ${defaultOf(v)} | ${accepts(v)} | ${cell(v.description)} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from core/config.ts by `node scripts/gen-config-doc.mjs`; test/docs/config-doc.test.ts checks it. Do not edit. -->',
    '',
    'Every environment variable Wingman reads. All processes read the same set (`core/config.ts`) and refuse to start',
    'on a value they do not accept, naming the variable (`WGM_ERR_CONFIG_INVALID`, see [errors.md](errors.md)). A',
    'variable marked (proxy), (sidecar) or (CLI) matters to that process only. Empty means unset.',
    '',
    '| Variable | Default | Accepts | What it is for |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
