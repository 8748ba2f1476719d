// The instruction-rule table: what an instruction may not ask a worker to RUN. Data plus small pure matchers over
// parsed commands (core/gate/shell-parse.ts produces them); the gate decides which parts of an instruction are
// runnable. Matching parsed argv rather than substrings is what lets `echo "rm -rf /"`, `git push --force-with-lease`
// and `sudo env X=1 rm -rf "$DIR"` be judged by what they do.
import { classifyShell } from './shell-classify.js';
import { GLOBAL_VALUES } from './shell-rules.js';

/** One simple command after wrappers (sudo, env, nohup, time, command, exec, nice, timeout, xargs…) are stripped. */
export interface CommandInvocation {
  /** Words with quotes removed; expansions kept as written (`$HOME`, `${DIR:?}`, `$(cmd)`). */
  argv: readonly string[];
  /** Variables set for (or by) this command: `X=1 cmd`, `env X=1 cmd`, a bare `X=1`. */
  env: Readonly<Record<string, string>>;
  /** `env -u NAME` */
  unset: readonly string[];
  /** `env -i`: the command runs with an empty environment. */
  clearsEnv: boolean;
  /** `command -p`: looked up on the default PATH, not the worker's. */
  defaultPath: boolean;
  redirects: readonly { op: string; target: string }[];
  /** Here-document bodies fed to the command (`psql <<SQL … SQL`). */
  heredocs: readonly string[];
  /** Source text of the command (for excerpts). */
  raw: string;
  /**
   * Offset of the command in the text given to the parser (for a line and column). Commands of a script handed to
   * another shell (`sh -c '…'`, `eval`, `bash <<EOF`) carry the offset of the command that hands it over.
   */
  start: number;
}

export interface InstructionRule {
  id: string;
  description: string;
  /** Matches one command in its pipeline (`pipeline[index] === cmd`). */
  command?: (cmd: CommandInvocation, pipeline: readonly CommandInvocation[], index: number) => boolean;
  /** Matches the raw text of a runnable snippet: SQL, compose/YAML and paths that are dangerous in any syntax. */
  text?: (snippet: string) => boolean;
  /**
   * `sql`: in shell snippets the text rule only looks at what reaches a database (a SQL client's arguments and
   * here-documents, or a line that is itself SQL), so `grep "DROP TABLE"` or a commit message is not a DROP.
   * Non-shell snippets (```sql blocks, YAML…) are matched whole either way. Default `any`.
   */
  textScope?: 'any' | 'sql';
  /** Quote the whole pipeline rather than the one command (`curl … | sh` says more than `sh`). */
  excerpt?: 'command' | 'pipeline';
}

/** Commands that send their arguments or stdin to a database. */
export const SQL_CLIENTS: ReadonlySet<string> = new Set(['psql', 'pgcli', 'mysql', 'mariadb', 'mycli', 'sqlite3', 'duckdb', 'cockroach', 'clickhouse-client', 'sqlcmd', 'usql', 'mongosh', 'mongo']);
/** A "command" whose first word is SQL (a code span like `DROP TABLE users`). */
export const SQL_FIRST_WORDS: ReadonlySet<string> = new Set(['DROP', 'TRUNCATE', 'DELETE', 'ALTER', 'UPDATE', 'INSERT', 'CREATE', 'SELECT', 'BEGIN', 'WITH']);

/** The socket a worker's DOCKER_HOST must point at (inside the worker container). */
export const WINGMAN_WORKER_DOCKER_HOST = 'unix:///var/run/wingman/docker.sock';

/** Any unix socket named docker.sock below a `wingman` / `.wingman` directory is Wingman's proxy socket. */
export function isWingmanDockerHost(value: string): boolean {
  return /^unix:\/\/(?:\/[^\s/]+)*\/\.?wingman\/(?:[^\s/]+\/){0,3}docker\.sock$/.test(value) && !value.includes('..');
}

const base = (word: string | undefined): string => (word ?? '').replace(/^.*\//, '');
const isOption = (w: string): boolean => w.startsWith('-') && w !== '-';
/** Short-option bundle containing `letter` before any option in `valueOpts` (which would swallow the rest). */
function shortBundleHas(word: string, letter: string, valueOpts = ''): boolean {
  if (!/^-[A-Za-z0-9]+$/.test(word)) return false;
  for (const ch of word.slice(1)) {
    if (ch === letter) return true;
    if (valueOpts.includes(ch)) return false;
  }
  return false;
}

/** Positional args and options of argv[1..], honouring `--`. */
function splitArgs(argv: readonly string[]): { options: string[]; positionals: string[] } {
  const options: string[] = [];
  const positionals: string[] = [];
  let done = false;
  for (const w of argv.slice(1)) {
    if (!done && w === '--') done = true;
    else if (!done && isOption(w)) options.push(w);
    else positionals.push(w);
  }
  return { options, positionals };
}

// ---- git ----

const GIT_GLOBAL_VALUE_OPTS = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix']);

/** git's subcommand and its arguments, past global options such as `-C dir` and `-c k=v`. */
export function gitSubcommand(argv: readonly string[]): { sub: string; args: string[] } | null {
  if (base(argv[0]) !== 'git') return null;
  let i = 1;
  while (i < argv.length && isOption(argv[i])) {
    i += GIT_GLOBAL_VALUE_OPTS.has(argv[i]) ? 2 : 1;
  }
  if (i >= argv.length) return null;
  return { sub: argv[i], args: argv.slice(i + 1) };
}

function isGitForcePush(cmd: CommandInvocation): boolean {
  const git = gitSubcommand(cmd.argv);
  if (!git || git.sub !== 'push') return false;
  for (const a of git.args) {
    if (a === '--') break;
    if (a === '--force' || a === '-f' || a === '--force-if-includes' || /^--force-with-lease(?:=.*)?$/.test(a)) return true;
    if (shortBundleHas(a, 'f', 'o')) return true;
    if (!isOption(a) && a.startsWith('+')) return true; // +refspec forces that ref
  }
  return false;
}

function isNoVerify(cmd: CommandInvocation): boolean {
  if (cmd.argv.includes('--no-verify')) return true;
  const git = gitSubcommand(cmd.argv);
  // `git commit -n` is --no-verify; in a bundle only before an option that takes a value (-m, -F, -c, -C, -t).
  return !!git && git.sub === 'commit' && git.args.some((a) => a === '-n' || shortBundleHas(a, 'n', 'mFcCtS'));
}

// ---- rm ----

const SYSTEM_DIRS = 'bin|boot|dev|etc|home|lib|lib32|lib64|libx32|media|mnt|opt|proc|root|run|sbin|srv|sys|usr|var';
const DANGEROUS_RM_TARGETS: readonly RegExp[] = [
  /^\/+(?:\.\/?|\*)?$/, // /  //  /.  /*
  new RegExp(`^/+(?:${SYSTEM_DIRS})/*\\*?$`), // /etc  /usr/  /var/*
  /^~[A-Za-z0-9_.-]*\/*(?:\*|\.\*)?$/, // ~  ~/  ~/*  ~user
  /^(?:\.\/)?(?:\*|\.\*)$/, // *  ./*  .*
  /^\.\.?\/*$/, // .  ..
  // An unbounded variable alone or as the root of the path: $DIR, ${DIR}, "$DIR"/, $DIR/*, $HOME. `${DIR:?}` is bounded.
  /^(?:\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[@*0-9])(?:\/*|\/*\*|\/\.\*)$/,
];

export function isDangerousRmTarget(target: string): boolean {
  return DANGEROUS_RM_TARGETS.some((re) => re.test(target));
}

function isDangerousRm(cmd: CommandInvocation): boolean {
  if (base(cmd.argv[0]) !== 'rm') return false;
  const { options, positionals } = splitArgs(cmd.argv);
  if (options.includes('--no-preserve-root')) return true;
  const recursive = options.some((o) => o === '--recursive' || shortBundleHas(o, 'r') || shortBundleHas(o, 'R'));
  return recursive && positionals.some(isDangerousRmTarget);
}

// ---- docker ----

// The docker CLI's own options that take a value: the shell table's (shell-rules.ts), not a list of the gate's.
const DOCKER_GLOBAL_VALUE_OPTS: ReadonlySet<string> = new Set(GLOBAL_VALUES);

/** The docker CLI's subcommand words and global options (`-H x`, `--context x`…). */
export function dockerCommand(argv: readonly string[]): { globals: string[][]; words: string[] } | null {
  if (base(argv[0]) !== 'docker') return null;
  const globals: string[][] = [];
  let i = 1;
  while (i < argv.length && isOption(argv[i])) {
    const opt = argv[i];
    if (DOCKER_GLOBAL_VALUE_OPTS.has(opt)) {
      globals.push([opt, argv[i + 1] ?? '']);
      i += 2;
    } else {
      const eq = opt.indexOf('=');
      globals.push(eq === -1 ? [opt] : [opt.slice(0, eq), opt.slice(eq + 1)]);
      i += 1;
    }
  }
  return { globals, words: argv.slice(i) };
}

/** The docker command as the shell wrapper's table classifies it (core/policy/shell-classify.ts). */
function isDockerPrune(cmd: CommandInvocation): boolean {
  if (base(cmd.argv[0]) !== 'docker') return false;
  const { id } = classifyShell(cmd.argv.slice(1));
  return id === 'system-prune' || id === 'volume-prune';
}

// ---- misc destructive ----

function isChmod777Recursive(cmd: CommandInvocation): boolean {
  if (base(cmd.argv[0]) !== 'chmod') return false;
  const { options, positionals } = splitArgs(cmd.argv);
  const recursive = options.some((o) => o === '--recursive' || shortBundleHas(o, 'R'));
  const worldAll = (m: string): boolean => /^0*777$/.test(m) || /^(?:a|ugo|ogu|uog|gou|[ugo]*o[ugo]*)?[+=]rwx$/.test(m);
  return recursive && positionals.some(worldAll);
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh', 'fish', 'python', 'python3', 'perl', 'ruby', 'node']);
const FETCHERS = new Set(['curl', 'wget', 'fetch']);

function isPipeToShell(cmd: CommandInvocation, pipeline: readonly CommandInvocation[], index: number): boolean {
  const name = base(cmd.argv[0]);
  // curl … | sh
  if (SHELLS.has(name) && pipeline.slice(0, index).some((c) => FETCHERS.has(base(c.argv[0])))) return true;
  // sh -c "$(curl …)", bash <(curl …), source <(wget -O- …), eval "$(curl …)"
  if (SHELLS.has(name) || name === 'eval' || name === 'source' || name === '.') {
    return cmd.argv.slice(1).some((w) => /(?:\$\(|<\(|`)\s*(?:\S*\/)?(?:curl|wget|fetch)\b/.test(w));
  }
  return false;
}

function isMkfs(cmd: CommandInvocation): boolean {
  return /^(?:mkfs(?:\..+)?|mke2fs|mkfs_[a-z0-9]+)$/.test(base(cmd.argv[0]));
}

const HARMLESS_DEVICES = /^\/dev\/(?:null|zero|u?random|full|stdout|stderr|stdin|tty\S*|pts\/\S*|fd\/\S*)$/;

function writesBlockDevice(cmd: CommandInvocation): boolean {
  if (base(cmd.argv[0]) === 'dd') {
    for (const a of cmd.argv.slice(1)) {
      const m = /^of=(\/dev\/\S+)$/.exec(a);
      if (m && !HARMLESS_DEVICES.test(m[1])) return true;
    }
  }
  return cmd.redirects.some((r) => /^(?:>|>>|>\||&>|&>>|[0-9]>)$/.test(r.op) && r.target.startsWith('/dev/') && !HARMLESS_DEVICES.test(r.target));
}

// ---- turning Wingman off ----

const EXPORTERS = new Set(['export', 'declare', 'typeset', 'readonly', 'local']);

/** DOCKER_HOST values this command sets, from prefix assignments, env, export/declare. */
function dockerHostAssignments(cmd: CommandInvocation): string[] {
  const values: string[] = [];
  if (Object.prototype.hasOwnProperty.call(cmd.env, 'DOCKER_HOST')) values.push(cmd.env.DOCKER_HOST);
  if (EXPORTERS.has(base(cmd.argv[0]))) {
    for (const a of cmd.argv.slice(1)) if (a.startsWith('DOCKER_HOST=')) values.push(a.slice('DOCKER_HOST='.length));
  }
  return values;
}

function unsetsDockerHost(cmd: CommandInvocation): boolean {
  if (cmd.unset.includes('DOCKER_HOST')) return true;
  if (cmd.clearsEnv && cmd.argv.length > 0) return true; // env -i … runs without DOCKER_HOST
  const name = base(cmd.argv[0]);
  if (name === 'unset') return cmd.argv.slice(1).includes('DOCKER_HOST');
  if (EXPORTERS.has(name)) return cmd.argv.includes('-n') && cmd.argv.includes('DOCKER_HOST'); // export -n
  return false;
}

function overridesDockerHost(cmd: CommandInvocation): boolean {
  if (dockerHostAssignments(cmd).some((v) => !isWingmanDockerHost(v))) return true;
  const d = dockerCommand(cmd.argv);
  return !!d && d.globals.some(([opt, value]) => (opt === '-H' || opt === '--host') && !isWingmanDockerHost(value ?? ''));
}

const RAW_SOCKET = /\/run\/docker\.sock\b/;
const RUN_DIR_MOUNT = /(?:^|\s)(?:-v|--volume)(?:\s+|=)["']?\/(?:var\/)?run\/?["']?:/m;
const MOUNT_RUN_DIR = /\bsource=\/(?:var\/)?run\/?(?:,|\s|$)/m;

function mountsRawSocket(snippet: string): boolean {
  return RAW_SOCKET.test(snippet) || RUN_DIR_MOUNT.test(snippet) || MOUNT_RUN_DIR.test(snippet);
}

function callsRealDocker(cmd: CommandInvocation): boolean {
  const argv0 = cmd.argv[0] ?? '';
  if (base(argv0) === 'docker' || base(argv0) === 'docker.io') {
    if (argv0.includes('/') && !/(?:^|\/)\.?wingman\//.test(argv0)) return true; // /usr/bin/docker
    if (cmd.defaultPath) return true; // command -p docker
    if (Object.prototype.hasOwnProperty.call(cmd.env, 'PATH')) return true; // PATH=/usr/bin docker …
  }
  return false;
}

const REAL_DOCKER_VAR = /\$\{?WINGMAN_REAL_DOCKER\b/;
const DOCKER_HOST_IN_CONFIG = /(?:^|[\s"'{,-])DOCKER_HOST["']?\s*[:=]\s*["']?([^\s"',}]*)/gm;

/** DOCKER_HOST in compose/YAML/env-file syntax (`- DOCKER_HOST=tcp://…`, `DOCKER_HOST: …`). */
function configOverridesDockerHost(snippet: string): boolean {
  for (const m of snippet.matchAll(DOCKER_HOST_IN_CONFIG)) {
    if (!isWingmanDockerHost(m[1])) return true;
  }
  return false;
}

export const INSTRUCTION_RULES: readonly InstructionRule[] = Object.freeze([
  {
    id: 'git-force-push',
    description: 'git push --force / -f / --force-with-lease / +refspec rewrites shared history',
    command: isGitForcePush,
  },
  {
    id: 'no-verify',
    description: '--no-verify (or git commit -n) skips the hooks that check a change',
    command: isNoVerify,
  },
  {
    id: 'rm-rf-dangerous',
    description: 'recursive rm of /, a top-level system directory, ~, *, or an unbounded variable ($DIR, $HOME)',
    command: isDangerousRm,
  },
  {
    id: 'sql-drop',
    description: 'DROP DATABASE / TABLE / SCHEMA, dropdb',
    command: (cmd) => base(cmd.argv[0]) === 'dropdb',
    text: (s) => /\bdrop\s+(?:database|table|schema)\b/i.test(s),
    textScope: 'sql',
  },
  {
    id: 'sql-truncate',
    description: 'TRUNCATE [TABLE] empties a table',
    text: (s) => /\btruncate\s+table\b/i.test(s) || /\bTRUNCATE\s+(?:ONLY\s+)?[A-Za-z_"`][\w."`]*/.test(s),
    textScope: 'sql',
  },
  {
    id: 'docker-system-prune',
    description: 'docker system prune / docker volume prune deletes data of every project on the host',
    command: isDockerPrune,
  },
  {
    id: 'chmod-777-recursive',
    description: 'chmod -R 777 makes a whole tree world-writable',
    command: isChmod777Recursive,
  },
  {
    id: 'pipe-to-shell',
    description: 'curl/wget … | sh runs unreviewed code from the network',
    command: isPipeToShell,
    excerpt: 'pipeline',
  },
  {
    id: 'mkfs',
    description: 'mkfs formats a filesystem',
    command: isMkfs,
  },
  {
    id: 'dd-to-device',
    description: 'dd of=/dev/… (or a redirect to a block device) overwrites a disk',
    command: writesBlockDevice,
  },
  {
    id: 'wingman-unset-docker-host',
    description: 'unsetting DOCKER_HOST (unset, env -u, env -i) sends docker to the raw engine, past Wingman',
    command: unsetsDockerHost,
  },
  {
    id: 'wingman-docker-host-override',
    description: 'pointing DOCKER_HOST or docker -H anywhere but the Wingman socket',
    command: overridesDockerHost,
    text: configOverridesDockerHost,
  },
  {
    id: 'wingman-raw-docker-socket',
    description: 'using or mounting the raw /var/run/docker.sock',
    text: mountsRawSocket,
  },
  {
    id: 'wingman-real-docker-binary',
    description: 'calling the real docker binary directly (/usr/bin/docker, command -p docker, $WINGMAN_REAL_DOCKER)',
    command: callsRealDocker,
    text: (s) => REAL_DOCKER_VAR.test(s),
  },
] satisfies InstructionRule[]);
