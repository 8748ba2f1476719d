// Classify a docker CLI command line by its parsed arguments, from the one table in shell-rules.ts. The shell
// wrapper runs the same algorithm in sh (its table is generated from the same rows; a test runs both on every
// example and requires the same answer). The control API uses this to scope a grant: it never trusts the
// wrapper's own classification.
import type { EscalationKind } from './escalation.js';
import { GLOBAL_VALUES, MANAGEMENT, SHELL_RULES, type ShellEscalation, type ShellRule } from './shell-rules.js';

export interface ShellClassification {
  decision: 'gate' | 'pass';
  /** the row id, or `help` / `unknown` / `usage` (a gated command with no target: docker prints its usage) */
  id: string;
  row?: ShellRule;
  /** gate: the Docker rules the grant covers; pass: the rules the command calls */
  docker: string[];
  escalations: EscalationKind[];
  /** positionals naming objects the grant is bound to */
  targets: string[];
  /** words for the summary (`force`, `with volumes`) */
  notes: string[];
  /** the escalation flags found in a run/create: kind, the flag as typed, the host path it mounts (if any) */
  found: Array<{ kind: EscalationKind; flag: string; hostPath?: string }>;
  /** the positionals (targets, image, command) */
  args: string[];
  /** the words typed for the command: `compose down` */
  path: string;
  /** compose `-p` project name, when given */
  project?: string;
}

const BY_PATH = new Map<string, ShellRule>();
for (const r of SHELL_RULES) for (const p of r.paths) BY_PATH.set(p, r);

const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const isTrue = (hasValue: boolean, v: string) => !hasValue || TRUE_WORDS.has(v);

/** sh `case` glob semantics for the only special character the table uses: `*`. */
export function globMatch(glob: string, s: string): boolean {
  const re = new RegExp('^' + glob.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's');
  return re.test(s);
}
const anyGlob = (globs: readonly string[] | undefined, s: string) => (globs ?? []).some((g) => globMatch(g, s));
const lowerTight = (s: string) => s.toLowerCase().replace(/\s+/g, '');

/** docker cp's rule (cli/command/container/cp.go splitCpArg): absolute or `.`-prefixed paths are local. */
export function cpContainer(arg: string): string | undefined {
  if (arg.startsWith('/')) return undefined;
  const i = arg.indexOf(':');
  if (i < 0) return undefined;
  const name = arg.slice(0, i);
  return name.startsWith('.') ? undefined : name;
}

/** The source of a `-v SRC:DST[:opts]` value, or undefined for an anonymous volume (`-v /data`). */
export function volumeSource(v: string): string | undefined {
  const i = v.indexOf(':');
  return i < 0 ? undefined : v.slice(0, i);
}

/** A number with an optional one-character suffix (`64m`, `50%`): the wrapper's `_wg_num`. */
function numberWithSuffix(v: string, suffixes: string): boolean {
  const n = v !== '' && suffixes.includes(v.slice(-1)) ? v.slice(0, -1) : v;
  return /^[0-9]+$/.test(n);
}

/**
 * Whether a tmpfs option string (`size=64m,noexec`) has an item outside the allowlist: size and nr_inodes (a
 * number with a unit), mode (1-4 octal digits), uid and gid (numbers), and the `allow`ed flags. Compared exactly,
 * as the proxy does (escalation.ts tmpfsOptionsProblem). The wrapper's `_wg_tmpfs_bad` is the same walk.
 */
export function tmpfsOptionsBad(opts: string, allow: readonly string[]): boolean {
  for (const item of opts.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (!allow.includes(item)) return true;
      continue;
    }
    const v = item.slice(eq + 1);
    switch (item.slice(0, eq)) {
      case 'size':
        if (!numberWithSuffix(v, 'kmgtpeKMGTPE%')) return true;
        break;
      case 'nr_inodes':
        if (!numberWithSuffix(v, 'kmgtpeKMGTPE')) return true;
        break;
      case 'mode':
        if (!/^[0-7]{1,4}$/.test(v)) return true;
        break;
      case 'uid':
      case 'gid':
        if (!/^[0-9]+$/.test(v)) return true;
        break;
      default:
        return true;
    }
  }
  return false;
}

/**
 * A `--mount` value as the docker CLI turns it into a volume mount (cli/opts/mount.go: keys lowercased, the type
 * lowercased, `volume-driver=` the driver name, each `volume-opt=K=V` one driver option, the last of a key
 * winning), judged like the proxy judges the mount: a driver other than local, or local options outside the tmpfs
 * allowlist. Not a volume mount (`type=bind`, `type=tmpfs`): neither. Quotes are dropped and fields split at commas,
 * like the other `--mount` checks (the wrapper's `_wg_mount_volume`).
 */
export function mountVolume(value: string, allow: readonly string[]): { driver: boolean; options: boolean } {
  let type = '';
  let driver = '';
  const options = Object.create(null) as Record<string, string>;
  for (const f of value.replace(/"/g, '').split(',')) {
    const eq = f.indexOf('=');
    const key = (eq < 0 ? f : f.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : f.slice(eq + 1);
    if (key === 'type') type = val.toLowerCase();
    else if (key === 'volume-driver') driver = val;
    else if (key === 'volume-opt') {
      const i = val.indexOf('=');
      const k = i < 0 ? val : val.slice(0, i);
      if (k !== '') options[k] = i < 0 ? '' : val.slice(i + 1);
    }
  }
  if (type !== '' && type !== 'volume') return { driver: false, options: false };
  if (driver !== '' && driver !== 'local') return { driver: true, options: false };
  return { driver: false, options: volumeOptionsBad(options, allow) };
}

/**
 * The local driver's options outside the tmpfs allowlist, as escalation.ts localVolumeOptionsProblem judges them:
 * only type/device/o (any case, each once), type tmpfs, device empty or tmpfs, `o` within the tmpfs allowlist.
 */
function volumeOptionsBad(options: Record<string, string>, allow: readonly string[]): boolean {
  const keys = Object.keys(options);
  if (keys.length === 0) return false;
  const byKey = new Map<string, string>();
  for (const k of keys) {
    const lk = k.toLowerCase();
    if (lk !== 'type' && lk !== 'device' && lk !== 'o') return true;
    if (byKey.has(lk)) return true;
    byKey.set(lk, options[k]);
  }
  const type = byKey.get('type');
  if (type === undefined || type.toLowerCase() !== 'tmpfs') return true;
  const device = byKey.get('device') ?? '';
  if (device !== '' && device.toLowerCase() !== 'tmpfs') return true;
  return tmpfsOptionsBad(byKey.get('o') ?? '', allow);
}

/** Whether an escalation flag with this value escalates, and the host path it names (for binding a grant). */
export function escalates(e: ShellEscalation, hasValue: boolean, value: string): { yes: boolean; hostPath?: string } {
  const v = e.exact ? value : lowerTight(value);
  switch (e.value) {
    case 'bool':
      return { yes: isTrue(hasValue, value) };
    case 'any':
      return { yes: true };
    case 'match':
      return { yes: anyGlob(e.globs, v) };
    case 'unless':
      return { yes: !anyGlob(e.globs, v) };
    case 'tmpfs': {
      // `--tmpfs DST[:OPTS]`: the CLI splits at the first colon
      const i = value.indexOf(':');
      return { yes: i >= 0 && tmpfsOptionsBad(value.slice(i + 1), e.allow ?? []) };
    }
    case 'mount-driver':
      return { yes: mountVolume(value, e.allow ?? []).driver };
    case 'mount-options':
      return { yes: mountVolume(value, e.allow ?? []).options };
    case 'volume': {
      const src = volumeSource(value);
      return src !== undefined && anyGlob(e.globs, src) ? { yes: true, hostPath: src } : { yes: false };
    }
    case 'mount': {
      const fields = lowerTight(value.replace(/"/g, '')).split(',');
      const yes = fields.some((f) => anyGlob(e.globs, f) && !anyGlob(e.fieldUnless, f));
      if (!yes) return { yes };
      // the source keeps its case: read it from the original value
      const src = value
        .replace(/"/g, '')
        .split(',')
        .map((f) => f.trim())
        .find((f) => /^(source|src)=/i.test(f));
      return src ? { yes, hostPath: src.slice(src.indexOf('=') + 1) } : { yes };
    }
  }
}

interface Flags {
  values: Set<string>;
  shorts: string;
}
const flagSet = (values: readonly string[]): Flags => ({
  values: new Set(values),
  shorts: values.filter((v) => /^-[^-]$/.test(v)).map((v) => v[1]).join(''),
});

/**
 * A short-option cluster the way pflag reads it (`-itv`, `-sKILL`, `-s=KILL`): the flags without a value, then
 * at most one flag with a value (attached, or the next argument when `next`). Same walk as the wrapper's
 * `_wg_cluster`.
 */
export function shortCluster(arg: string, shorts: string): { flags: string[]; vflag?: string; value?: string; next: boolean } {
  let s = arg.slice(1);
  const flags: string[] = [];
  while (s) {
    const c = s[0];
    s = s.slice(1);
    if (shorts.includes(c)) return s ? { flags, vflag: c, value: s.replace(/^=/, ''), next: false } : { flags, vflag: c, next: true };
    if (s.startsWith('=')) return { flags, vflag: c, value: s.slice(1), next: false };
    flags.push(c);
  }
  return { flags, next: false };
}

const isHelp = (a: string) => a === '--help' || a.startsWith('--help=');

export function classifyShell(argv: readonly string[]): ShellClassification {
  const out: ShellClassification = { decision: 'pass', id: 'help', docker: [], escalations: [], targets: [], notes: [], found: [], args: [], path: '' };
  const help = (): ShellClassification => ({ ...out, decision: 'pass', id: 'help' });
  const version = (): ShellClassification => ({ ...out, decision: 'pass', id: 'version', docker: ['SystemVersion'] });
  let i = 0;
  const globals = flagSet(GLOBAL_VALUES);

  // docker's own options, before the subcommand
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-v' || a === '--version') return version();
    if (a === '-h' || isHelp(a)) return help();
    if (a.startsWith('--')) {
      if (!a.includes('=') && globals.values.has(a)) i++;
      continue;
    }
    if (a.length > 1 && a.startsWith('-')) {
      const cl = shortCluster(a, globals.shorts);
      if (cl.flags.includes('v')) return version();
      if (cl.flags.includes('h')) return help();
      if (cl.next) i++;
      continue;
    }
    break;
  }

  // the command words: `rm`, `container rm`, `compose [compose options] down`
  const w1 = argv[i++];
  if (w1 === undefined) return help();
  let key = w1;
  const mgmt = MANAGEMENT[w1];
  if (mgmt) {
    const mv = flagSet(mgmt);
    for (; i < argv.length; i++) {
      const a = argv[i];
      if (a === '-h' || isHelp(a)) return help();
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        const name = eq < 0 ? a : a.slice(0, eq);
        if (eq < 0 && mv.values.has(a)) {
          if (w1 === 'compose' && a === '--project-name') out.project = argv[i + 1];
          i++;
        } else if (w1 === 'compose' && name === '--project-name') out.project = a.slice(eq + 1);
        continue;
      }
      if (a.length > 1 && a.startsWith('-')) {
        const cl = shortCluster(a, mv.shorts);
        if (cl.flags.includes('h')) return help();
        if (w1 === 'compose' && cl.vflag === 'p') out.project = cl.next ? argv[i + 1] : cl.value;
        if (cl.next) i++;
        continue;
      }
      break;
    }
    const w2 = argv[i++];
    if (w2 === undefined) return help();
    key = `${w1} ${w2}`;
  }
  out.path = key;
  const row = BY_PATH.get(key);
  if (!row) return { ...out, id: 'unknown' };

  // the row's own options and positionals
  const flags = flagSet(row.values);
  const positionals: string[] = [];
  const docker = new Set(row.cp ? [] : row.docker);
  const notes: string[] = [];
  const kinds = new Set<EscalationKind>();
  const found: ShellClassification['found'] = [];
  let end = false;
  // stdin: attached by default or by the last of its `on` flags, or by an `onValue` flag; kept out by the last `off`
  const stdin = row.stdin && (row.stdin.paths ?? row.paths).includes(key) ? row.stdin : undefined;
  let stdinFlag = stdin?.default ?? false;
  let stdinValue = false;
  let stdinOff = false;
  const flag = (name: string, hasValue: boolean, value: string) => {
    if (stdin) {
      if (stdin.on?.includes(name)) stdinFlag = isTrue(hasValue, value);
      if (stdin.onValue?.flags.includes(name) && stdin.onValue.values.includes(lowerTight(value))) stdinValue = true;
      if (stdin.off?.includes(name)) stdinOff = isTrue(hasValue, value);
    }
    const on = !hasValue || flags.values.has(name) || TRUE_WORDS.has(value);
    if (on) {
      for (const w of row.when ?? []) {
        if (!w.flags.includes(name)) continue;
        for (const r of w.add ?? []) docker.add(r);
        if (!notes.includes(w.note)) notes.push(w.note);
      }
    }
    for (const e of row.escalate?.flags ?? []) {
      if (!e.flags.includes(name)) continue;
      const r = escalates(e, hasValue, value);
      if (r.yes) {
        kinds.add(e.kind);
        const flagText = e.value === 'bool' ? name : `${name} ${value.slice(0, 200)}`;
        found.push(r.hostPath === undefined ? { kind: e.kind, flag: flagText } : { kind: e.kind, flag: flagText, hostPath: r.hostPath });
      }
    }
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (end) {
      positionals.push(a);
      continue;
    }
    if (a === '--') {
      end = true;
      continue;
    }
    if (isHelp(a)) return help();
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=', 3);
      if (eq >= 0) flag(a.slice(0, eq), true, a.slice(eq + 1));
      else if (flags.values.has(a)) flag(a, true, argv[++i] ?? '');
      else flag(a, false, '');
      continue;
    }
    if (a.length > 1 && a.startsWith('-')) {
      const cl = shortCluster(a, flags.shorts);
      for (const c of cl.flags) {
        if (c === 'h') return help();
        flag(`-${c}`, false, '');
      }
      if (cl.vflag !== undefined) flag(`-${cl.vflag}`, true, cl.next ? (argv[++i] ?? '') : cl.value!);
      continue;
    }
    positionals.push(a);
    if (row.stopAtFirst) end = true;
  }

  const result: ShellClassification = { ...out, decision: row.decision, id: row.id, row, docker: [...docker], escalations: [...kinds], targets: [], notes, found, args: positionals };
  const usage = (): ShellClassification => ({ ...result, decision: 'pass', id: 'usage', docker: [], escalations: [], notes: [] });
  if (row.cp) {
    const [src, dst] = positionals;
    if (src === undefined || dst === undefined) return usage();
    const from = cpContainer(src);
    const to = cpContainer(dst);
    if (from !== undefined) return { ...result, docker: [...row.cp.out], targets: [from], notes: [`out of ${src}`] };
    if (to !== undefined) return { ...result, docker: [...row.cp.in], targets: [to], notes: [`into ${dst}`] };
    return usage();
  }
  const withStdin = stdin !== undefined && (stdinFlag || stdinValue) && !stdinOff;
  if (row.escalate && row.decision === 'pass') {
    // run/create: read-only unless it escalates or attaches stdin
    if (kinds.size === 0 && !withStdin) return result;
    const rules = [...(kinds.size ? row.escalate.docker : []), ...(withStdin ? stdin.docker : [])];
    return { ...result, decision: 'gate', docker: rules, targets: [], notes: [...found.map((f) => f.flag), ...(withStdin ? [stdin.note] : [])] };
  }
  // a gated row's escalations (update --pids-limit -1) stay in its grant, and in its summary
  for (const f of found) if (!notes.includes(f.flag)) notes.push(f.flag);
  if (withStdin) {
    result.decision = 'gate';
    result.docker = [...stdin.docker];
    notes.push(stdin.note);
  }
  if (row.targets || row.names) {
    if (positionals.length === 0) return usage();
    if (row.targets) result.targets = row.targets.take === 'first' ? positionals.slice(0, 1) : positionals;
    row.names?.forEach((label, n) => {
      if (positionals[n] !== undefined) notes.push(`${label} ${positionals[n]}`);
    });
  }
  return result;
}

/** The wrapper's classify-mode line: `<decision> <id> <docker rules,…|-> <escalations,…|->`. */
export function classificationLine(c: ShellClassification): string {
  return `${c.decision} ${c.id} ${c.docker.join(',') || '-'} ${c.escalations.join(',') || '-'}`;
}
