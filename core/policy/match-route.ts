// Match a normalised path against the policy table the way gorilla/mux does in dockerd: anchored regexes,
// first registered match wins, `{name:.*}` spans '/' and `{id}` does not.
import { DOCKER_RULES, UNKNOWN_RULE, type DockerRule } from './docker-rules.js';

export interface RouteMatch {
  rule: DockerRule;
  /** the template with param regexes removed: `/containers/{name}/json` (a bounded label value) */
  route: string;
  /** decoded param values in template order */
  params: Record<string, string>;
}

interface Compiled {
  rule: DockerRule;
  re: RegExp;
  names: string[];
  route: string;
}

function compile(rule: DockerRule): Compiled {
  const names: string[] = [];
  let re = '';
  let route = '';
  let i = 0;
  const p = rule.path;
  while (i < p.length) {
    const open = p.indexOf('{', i);
    if (open < 0) {
      re += escape(p.slice(i));
      route += p.slice(i);
      break;
    }
    re += escape(p.slice(i, open));
    route += p.slice(i, open);
    const close = p.indexOf('}', open);
    const inner = p.slice(open + 1, close);
    const colon = inner.indexOf(':');
    const name = colon < 0 ? inner : inner.slice(0, colon);
    const pattern = colon < 0 ? '[^/]+' : inner.slice(colon + 1);
    names.push(name);
    re += `(${pattern})`;
    route += `{${name}}`;
    i = close + 1;
  }
  return { rule, re: new RegExp(`^${re}$`, 's'), names, route };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const BY_METHOD = new Map<string, Compiled[]>();
const ANY: Compiled[] = [];
for (const rule of DOCKER_RULES) {
  const c = compile(rule);
  if (rule.method === '*') ANY.push(c);
  else {
    const list = BY_METHOD.get(rule.method) ?? [];
    list.push(c);
    BY_METHOD.set(rule.method, list);
  }
}

export function matchRoute(method: string, path: string): RouteMatch {
  for (const c of [...ANY, ...(BY_METHOD.get(method) ?? [])]) {
    const m = c.re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, idx) => (params[n] = m[idx + 1] ?? ''));
    return { rule: c.rule, route: c.route, params };
  }
  return { rule: UNKNOWN_RULE, route: 'unknown', params: {} };
}

export function ruleById(id: string): DockerRule | undefined {
  return id === UNKNOWN_RULE.id ? UNKNOWN_RULE : DOCKER_RULES.find((r) => r.id === id);
}

export const ROUTES: ReadonlyArray<{ id: string; method: string; route: string }> = [...ANY, ...[...BY_METHOD.values()].flat()].map(
  (c) => ({ id: c.rule.id, method: c.rule.method, route: c.route }),
);
