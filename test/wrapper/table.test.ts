// The shell table itself: the wrapper's generated sh table is up to date with core/policy/shell-rules.ts, every
// row agrees with the Docker policy table (gated rows name only approve/deny rules, read-only rows only allow
// rules), and the flags that take a value are the ones the docker CLI on this machine says take a value.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import t from 'tap';
import { DOCKER_RULES } from '../../core/policy/docker-rules.js';
import { ESCALATION_KINDS } from '../../core/policy/escalation.js';
import { ruleById } from '../../core/policy/match-route.js';
import { GLOBAL_VALUES, MANAGEMENT, SHELL_RULES } from '../../core/policy/shell-rules.js';
import { renderShellTable, spliceShellTable } from '../../core/policy/shell-table-sh.js';
import { WRAPPER } from './helpers.js';

t.test('the sh table in shell-wrapper/docker is generated from shell-rules.ts and up to date', async (t) => {
  const script = fs.readFileSync(WRAPPER, 'utf8');
  t.ok(script.includes(renderShellTable()), 'the current rendering is in the wrapper');
  t.equal(spliceShellTable(script), script, 'out of date: run `npx tsc -p tsconfig.json && node shell-wrapper/gen-table.mjs`');
  t.equal(spliceShellTable(script.replace("'rm'|'container rm'", "'rm'|'container zap'")), script, 'a hand edit of the table is detected and undone');
});

/** The Docker rules a row's grant can cover: its own (gated), added by flags, cp directions, escalated, with stdin. */
const grantRules = (r: (typeof SHELL_RULES)[number]): string[] => [
  ...(r.decision === 'gate' ? r.docker : []),
  ...(r.when ?? []).flatMap((w) => w.add ?? []),
  ...(r.cp?.out ?? []),
  ...(r.cp?.in ?? []),
  ...(r.escalate?.docker ?? []),
  ...(r.stdin?.docker ?? []),
];

t.test('row ids and command paths are unique', async (t) => {
  const ids = SHELL_RULES.map((r) => r.id);
  t.equal(new Set(ids).size, ids.length);
  const paths = SHELL_RULES.flatMap((r) => r.paths);
  t.equal(new Set(paths).size, paths.length);
  for (const p of paths) {
    const [w1, w2, ...rest] = p.split(' ');
    t.equal(rest.length, 0, `${p}: at most two words`);
    if (w2 !== undefined) t.ok(MANAGEMENT[w1], `${p}: the first word is a management command`);
    else t.notOk(MANAGEMENT[w1], `${p}: a one-word path is not a management command`);
  }
});

t.test('every gated row names only Docker rules that need a human (approve or deny in docker-rules.ts)', async (t) => {
  for (const r of SHELL_RULES.filter((x) => x.decision === 'gate')) {
    const ids = grantRules(r);
    t.ok(ids.length > 0, `${r.id}: names its rules`);
    for (const id of ids) {
      const rule = ruleById(id);
      t.ok(rule, `${r.id}: ${id} is a Docker rule`);
      t.ok(rule && (rule.action === 'approve' || rule.action === 'deny'), `${r.id}: ${id} is ${rule?.action}, not allow`);
    }
    t.ok(r.targets || r.uses, `${r.id}: bound to named targets or to a use count`);
  }
});

t.test('a row that attaches stdin gates on the rule the proxy decides that attach as (ContainerExec)', async (t) => {
  const rows = SHELL_RULES.filter((r) => r.stdin);
  t.same(rows.map((r) => r.id).sort(), ['attach', 'run', 'start']);
  for (const r of rows) {
    const st = r.stdin!;
    t.same(st.docker, ['ContainerExec'], `${r.id}: an attach with stdin is decided as ContainerExec (decide.ts effectiveRule)`);
    t.equal(ruleById('ContainerExec')?.action, 'approve');
    for (const p of st.paths ?? []) t.ok(r.paths.includes(p), `${r.id}: ${p} is one of its paths`);
    for (const f of [...(st.on ?? []), ...(st.off ?? [])]) t.notOk(r.values.includes(f), `${r.id}: ${f} is a bool flag`);
    for (const f of st.onValue?.flags ?? []) t.ok(r.values.includes(f), `${r.id}: ${f} takes a value`);
    // the grant binds the attach to its container when the command names it (the proxy resolves it to the id)
    if (r.id !== 'run') t.same(r.targets, { kind: 'container', take: 'first' }, `${r.id}: bound to the container it attaches to`);
  }
});

t.test('every read-only row names only Docker rules the policy allows', async (t) => {
  for (const r of SHELL_RULES.filter((x) => x.decision === 'pass')) {
    t.notOk(r.names, `${r.id}: only gated rows name unbound positionals`);
    for (const id of r.docker) {
      const rule = ruleById(id);
      t.ok(rule, `${r.id}: ${id} is a Docker rule`);
      t.equal(rule?.action, 'allow', `${r.id}: ${id}`);
    }
    t.notOk(r.when?.some((w) => w.add?.length), `${r.id}: a read-only row adds no rules`);
  }
});

t.test('escalation flags gate on the Docker rule whose body the proxy inspects, with the proxy kinds', async (t) => {
  const rows = SHELL_RULES.filter((r) => r.escalate);
  t.ok(rows.length > 0);
  for (const r of rows) {
    for (const id of r.escalate!.docker) {
      t.ok(['container-create', 'container-update'].includes(ruleById(id)?.inspect ?? ''), `${r.id}: ${id} is inspected for escalations by the proxy`);
      if (r.decision === 'gate') t.ok(r.docker.includes(id), `${r.id}: a gated row's grant covers ${id}`);
    }
    for (const e of r.escalate!.flags) {
      t.ok((ESCALATION_KINDS as readonly string[]).includes(e.kind), `${e.flags[0]}: ${e.kind} is a proxy escalation kind`);
      for (const f of e.flags) t.ok(r.values.includes(f) === (e.value !== 'bool'), `${f}: takes a value exactly when it is not a bool`);
    }
  }
  // the kinds the proxy finds in request bodies are checked against real docker CLI requests in policy-agreement.test.ts
});

t.test('Docker rules that need approval and are reachable from the CLI are covered by a gated row', async (t) => {
  const covered = new Set(SHELL_RULES.flatMap(grantRules));
  // left to the proxy (held call by call): swarm, services, nodes, secrets, configs, plugins, legacy copy
  const leftToProxy = /^(Swarm|Service|Node|Secret|Config|Plugin|GetPlugin)|^(ContainerCopy|VolumeUpdate|Unknown)$/;
  for (const rule of DOCKER_RULES.filter((r) => r.action === 'approve')) {
    if (leftToProxy.test(rule.id)) continue;
    t.ok(covered.has(rule.id), `${rule.id} has a gated shell row`);
  }
});

// ---- flags that take a value, per `docker <command> --help` of the CLI on this machine ----

function dockerHelp(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('docker', [...args, '--help'], { env: { PATH: process.env.PATH, HOME: process.env.HOME } }, (err: Error | null, stdout) =>
      err && !stdout ? reject(err) : resolve(stdout),
    ),
  );
}

/** `{ value: flags that take a value, bool: flags that do not }` from a help text's options section. */
export function helpFlags(text: string, section = 'Options:'): { value: Set<string>; bool: Set<string> } {
  const value = new Set<string>();
  const bool = new Set<string>();
  let inside = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      inside = line.startsWith(section);
      continue;
    }
    if (!inside) continue;
    const m = /^\s+(?:-(\w), )?--([\w-]+)(?: ([a-z][\w-]*))?(?:\s{2,}|$)/.exec(line);
    if (!m) continue;
    const names = [`--${m[2]}`, ...(m[1] ? [`-${m[1]}`] : [])];
    for (const n of names) (m[3] ? value : bool).add(n);
  }
  return { value, bool };
}

/** Value flags the CLI accepts but hides from --help (deprecated aliases), or that newer CLIs add. */
const HIDDEN = new Set(['--time', '--net', '--net-alias', '--dns-opt', '--kernel-memory', '--max-used-space', '--min-free-space', '--reserved-space', '--builder']);

t.test('docker global options: the ones that take a value', async (t) => {
  const { value, bool } = helpFlags(await dockerHelp([]), 'Global Options:');
  t.ok(value.size > 5, 'parsed the help text');
  t.same([...value].sort(), [...GLOBAL_VALUES].sort());
  t.ok(bool.has('--tls') && bool.has('-D'), 'bools parsed too');
});

t.test('per command: every flag that takes a value in docker --help is in the row, and no row value is a bool', async (t) => {
  const rows = SHELL_RULES.flatMap((r) => r.paths.filter((p) => !/^(compose|buildx) /.test(p)).map((p) => ({ r, p })));
  t.ok(rows.length > 40);
  for (const { r, p } of rows) {
    const { value, bool } = helpFlags(await dockerHelp(p.split(' ')));
    t.ok(value.size + bool.size > 0 || ['pause', 'unpause', 'rename', 'top', 'wait', 'tag', 'container pause', 'container unpause', 'container rename', 'container top', 'container wait', 'image tag', 'volume rm', 'volume remove', 'network rm', 'network remove'].includes(p), `${p}: help parsed`);
    for (const f of value) t.ok(r.values.includes(f), `docker ${p}: ${f} takes a value`);
    for (const f of r.values) {
      t.notOk(bool.has(f), `docker ${p}: ${f} is a bool flag, not a value flag`);
      if (!value.has(f) && !bool.has(f)) {
        // listed for another path of the same row (inspect), or hidden
        const elsewhere = r.paths.length > 1 || HIDDEN.has(f);
        t.ok(elsewhere, `docker ${p}: ${f} is not a flag of this command`);
      }
    }
  }
});
