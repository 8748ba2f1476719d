// The security validator's rules, as data. Each row names what it matches in the syntax tree of its language; the
// interpreters in security-validator.ts apply them. CRITICAL and HIGH findings are blocking. Every row has a test that
// fires and a near miss that does not (test/validation/security-rules.test.ts walks this table).
import type { Severity } from './types.js';

/** Which first argument makes a call rule fire. */
export type ArgCondition = 'non-literal' | 'literal' | 'any';

interface RuleBase {
  id: string;
  severity: Severity;
  message: string;
}

/** A JS/TS call whose callee (resolved through imports) is one of `callees`. */
export interface JsCallRule extends RuleBase {
  kind: 'js-call';
  callees: readonly string[];
  firstArg: ArgCondition;
  /** Apply the condition to every argument: 'non-literal' then means "any argument is not a literal". */
  anyArg?: boolean;
  /** `new X(...)` counts too. */
  alsoNew?: boolean;
  /** Fire only when the call runs a shell: options `{shell: true}` or a first argument that is a shell binary. */
  viaShell?: boolean;
}

/** An object literal property with a given literal value, e.g. `rejectUnauthorized: false`. */
export interface JsPropertyRule extends RuleBase {
  kind: 'js-property';
  property: string;
  value: string;
}

/** An assignment to a dotted target with a given literal value, e.g. process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'. */
export interface JsAssignRule extends RuleBase {
  kind: 'js-assign';
  target: string;
  values: readonly string[];
}

/** A Python call whose callee (resolved through import aliases) is one of `callees` ('*' = any call). */
export interface PyCallRule extends RuleBase {
  kind: 'py-call';
  callees: readonly string[];
  firstArg: ArgCondition;
  /** Fire only when this keyword argument is present with this source text. */
  keywordIs?: { name: string; text: string };
  /** Fire unless this keyword (or positional argument) is one of the safe values. */
  keywordSafe?: { name: string; position: number; safe: readonly string[] };
}

/**
 * SQL text built from pieces at run time (concatenation, formatting, interpolation) instead of parameters. Pieces that
 * are literals or SCREAMING_CASE constants (`${COLUMNS}`, `${COLS.join(', ')}`) do not count. `parameterized`: the
 * query also uses placeholders or is passed with a parameter list, and no interpolated piece sits in quotes: the
 * interpolation is probably structure (a column list, placeholders), which deserves a look but is not blocking.
 */
export interface SqlBuildRule extends RuleBase {
  kind: 'sql-build';
  language: 'js' | 'python';
  parameterized: boolean;
}

/** A shell pipeline that downloads and executes: `curl … | sh`, `bash <(curl …)`, `sh -c "$(wget …)"`. */
export interface ShellPipeRule extends RuleBase {
  kind: 'sh-fetch-exec';
  fetchers: readonly string[];
  interpreters: readonly string[];
}

/** A shell command by name with an argument matching `argPattern` (and, if given, a flag matching `flagPattern`). */
export interface ShellCommandRule extends RuleBase {
  kind: 'sh-command';
  command: string;
  flagPattern?: RegExp;
  argPattern: RegExp;
}

export interface DockerfileRule extends RuleBase {
  kind: 'dockerfile';
  check: 'final-user-root' | 'no-user' | 'add-remote' | 'from-latest' | 'from-untagged';
}

/** A key/value in a docker compose service (or a Kubernetes pod spec, for the keys they share). */
export interface ComposeRule extends RuleBase {
  kind: 'compose';
  check: 'privileged' | 'host-namespace' | 'docker-socket' | 'cap-add' | 'security-opt-unconfined';
}

export type SecurityRule =
  | JsCallRule
  | JsPropertyRule
  | JsAssignRule
  | PyCallRule
  | SqlBuildRule
  | ShellPipeRule
  | ShellCommandRule
  | DockerfileRule
  | ComposeRule;

// exec/execSync hand their command string to a shell; the others run a program with an argument vector.
const CHILD_PROCESS_SHELL = ['exec', 'execSync'].map((f) => `child_process.${f}`);
const CHILD_PROCESS_PROGRAM = ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork'].map((f) => `child_process.${f}`);
const SUBPROCESS = ['run', 'call', 'check_call', 'check_output', 'Popen'].map((f) => `subprocess.${f}`);
export const SHELL_BINARIES = ['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'fish'] as const;
const INTERPRETERS = [...SHELL_BINARIES, 'python', 'python3', 'perl', 'ruby', 'node', 'php', 'source', '.', 'eval'];

// Roots and top-level system directories, $HOME and ~, and "$VAR/" or "$VAR/*" without a ${VAR:?} guard (an unset
// variable makes it "/").
const RM_ROOT_TARGET =
  /^(\/+\.?\*?|~\/?\*?|\$\{?HOME\}?\/?\*?|\/(bin|boot|dev|etc|home|lib|lib32|lib64|opt|proc|root|run|sbin|srv|sys|usr|var)\/?\*?|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\/\*?)$/;

export const SECURITY_RULES: readonly SecurityRule[] = [
  // ---- JavaScript / TypeScript
  { id: 'js.eval', kind: 'js-call', severity: 'HIGH', callees: ['eval', 'window.eval', 'globalThis.eval', 'global.eval'], firstArg: 'non-literal', message: 'eval() of a value computed at run time' },
  { id: 'js.eval-literal', kind: 'js-call', severity: 'MEDIUM', callees: ['eval', 'window.eval', 'globalThis.eval', 'global.eval'], firstArg: 'literal', message: 'eval() of a constant string: write the code instead' },
  { id: 'js.new-function', kind: 'js-call', severity: 'HIGH', callees: ['Function', 'window.Function', 'globalThis.Function'], alsoNew: true, firstArg: 'non-literal', anyArg: true, message: 'new Function() with a body computed at run time' },
  { id: 'js.vm-run', kind: 'js-call', severity: 'HIGH', callees: ['vm.runInThisContext', 'vm.runInNewContext', 'vm.runInContext', 'vm.compileFunction', 'vm.Script'], alsoNew: true, firstArg: 'non-literal', message: 'node:vm runs code computed at run time (vm is not a sandbox)' },
  { id: 'js.child-process', kind: 'js-call', severity: 'HIGH', callees: CHILD_PROCESS_SHELL, firstArg: 'non-literal', message: 'shell command computed at run time (child_process.exec)' },
  { id: 'js.child-process-program', kind: 'js-call', severity: 'MEDIUM', callees: CHILD_PROCESS_PROGRAM, firstArg: 'non-literal', message: 'child process runs a program chosen at run time' },
  { id: 'js.child-process-shell', kind: 'js-call', severity: 'HIGH', callees: CHILD_PROCESS_PROGRAM, firstArg: 'literal', viaShell: true, message: 'child process runs a shell with arguments computed at run time' },
  { id: 'js.tls-unverified', kind: 'js-property', severity: 'HIGH', property: 'rejectUnauthorized', value: 'false', message: 'TLS certificate verification turned off (rejectUnauthorized: false)' },
  { id: 'js.tls-env-unverified', kind: 'js-assign', severity: 'HIGH', target: 'process.env.NODE_TLS_REJECT_UNAUTHORIZED', values: ['0', 'false'], message: 'TLS certificate verification turned off for the whole process' },
  { id: 'js.sql-built', kind: 'sql-build', severity: 'HIGH', language: 'js', parameterized: false, message: 'SQL built by concatenation or template interpolation: use parameters' },
  { id: 'js.sql-interpolated', kind: 'sql-build', severity: 'MEDIUM', language: 'js', parameterized: true, message: 'parameterised SQL that also interpolates run-time text: check that it is not input' },

  // ---- Python
  { id: 'py.eval', kind: 'py-call', severity: 'HIGH', callees: ['eval', 'exec', 'builtins.eval', 'builtins.exec'], firstArg: 'non-literal', message: 'eval()/exec() of a value computed at run time' },
  { id: 'py.eval-literal', kind: 'py-call', severity: 'MEDIUM', callees: ['eval', 'exec', 'builtins.eval', 'builtins.exec'], firstArg: 'literal', message: 'eval()/exec() of a constant string: write the code instead' },
  { id: 'py.pickle-load', kind: 'py-call', severity: 'HIGH', callees: ['pickle.load', 'pickle.loads', 'cPickle.load', 'cPickle.loads', 'dill.load', 'dill.loads', '_pickle.load', '_pickle.loads'], firstArg: 'any', message: 'unpickling runs arbitrary code from the data' },
  { id: 'py.yaml-load', kind: 'py-call', severity: 'HIGH', callees: ['yaml.load', 'yaml.load_all', 'yaml.unsafe_load', 'yaml.unsafe_load_all'], firstArg: 'any', keywordSafe: { name: 'Loader', position: 1, safe: ['SafeLoader', 'CSafeLoader', 'BaseLoader', 'CBaseLoader', 'yaml.SafeLoader', 'yaml.CSafeLoader', 'yaml.BaseLoader', 'yaml.CBaseLoader'] }, message: 'yaml.load without SafeLoader constructs arbitrary objects: use yaml.safe_load' },
  { id: 'py.subprocess-shell', kind: 'py-call', severity: 'HIGH', callees: SUBPROCESS, firstArg: 'non-literal', keywordIs: { name: 'shell', text: 'True' }, message: 'subprocess with shell=True and a command computed at run time' },
  { id: 'py.subprocess-shell-literal', kind: 'py-call', severity: 'MEDIUM', callees: SUBPROCESS, firstArg: 'literal', keywordIs: { name: 'shell', text: 'True' }, message: 'subprocess with shell=True: pass an argument list instead' },
  { id: 'py.shell-getoutput', kind: 'py-call', severity: 'HIGH', callees: ['subprocess.getoutput', 'subprocess.getstatusoutput', 'commands.getoutput'], firstArg: 'non-literal', message: 'subprocess.getoutput runs a shell with a command computed at run time' },
  { id: 'py.os-system', kind: 'py-call', severity: 'HIGH', callees: ['os.system', 'os.popen', 'os.popen2', 'os.popen3', 'os.popen4'], firstArg: 'non-literal', message: 'os.system/os.popen with a command computed at run time' },
  { id: 'py.os-system-literal', kind: 'py-call', severity: 'MEDIUM', callees: ['os.system', 'os.popen'], firstArg: 'literal', message: 'os.system/os.popen runs a shell: use subprocess with an argument list' },
  { id: 'py.tls-unverified', kind: 'py-call', severity: 'HIGH', callees: ['*'], firstArg: 'any', keywordIs: { name: 'verify', text: 'False' }, message: 'TLS certificate verification turned off (verify=False)' },
  { id: 'py.tls-unverified-context', kind: 'py-call', severity: 'HIGH', callees: ['ssl._create_unverified_context'], firstArg: 'any', message: 'unverified TLS context' },
  { id: 'py.sql-built', kind: 'sql-build', severity: 'HIGH', language: 'python', parameterized: false, message: 'SQL built by f-string, %, .format() or concatenation: use query parameters' },
  { id: 'py.sql-interpolated', kind: 'sql-build', severity: 'MEDIUM', language: 'python', parameterized: true, message: 'parameterised SQL that also interpolates run-time text: check that it is not input' },

  // ---- Shell (shell scripts, Dockerfile RUN, package.json scripts, literal commands passed to exec/os.system)
  { id: 'sh.curl-pipe-shell', kind: 'sh-fetch-exec', severity: 'HIGH', fetchers: ['curl', 'wget', 'fetch', 'iwr', 'Invoke-WebRequest'], interpreters: INTERPRETERS, message: 'downloads a script and executes it unverified (curl | sh)' },
  { id: 'sh.rm-rf-root', kind: 'sh-command', severity: 'CRITICAL', command: 'rm', flagPattern: /^(-[a-zA-Z]*[rR][a-zA-Z]*|--recursive|--no-preserve-root)$/, argPattern: RM_ROOT_TARGET, message: 'recursive rm of /, $HOME, a system directory or an unguarded "$VAR/"' },
  { id: 'sh.rm-no-preserve-root', kind: 'sh-command', severity: 'CRITICAL', command: 'rm', argPattern: /^--no-preserve-root$/, message: 'rm --no-preserve-root' },
  { id: 'sh.chmod-777', kind: 'sh-command', severity: 'HIGH', command: 'chmod', argPattern: /^(0?0?777|[ugoa]*[+=]rwx[st]*|a\+rwx|ugo\+rwx)$/, message: 'chmod 777: world-writable and executable' },
  { id: 'sh.chmod-world-writable', kind: 'sh-command', severity: 'MEDIUM', command: 'chmod', argPattern: /^(0?0?[0-7][0-7][2367]|o\+w|a\+w|o\+rw|a\+rw)$/, message: 'chmod makes files world-writable' },

  // ---- Dockerfile
  { id: 'docker.user-root', kind: 'dockerfile', severity: 'HIGH', check: 'final-user-root', message: 'the final image runs as root (USER root)' },
  { id: 'docker.no-user', kind: 'dockerfile', severity: 'LOW', check: 'no-user', message: 'the final stage sets no USER, so it runs as root' },
  { id: 'docker.add-remote', kind: 'dockerfile', severity: 'HIGH', check: 'add-remote', message: 'ADD of a remote URL without --checksum' },
  { id: 'docker.from-latest', kind: 'dockerfile', severity: 'MEDIUM', check: 'from-latest', message: 'FROM …:latest is not reproducible: pin a version or digest' },
  { id: 'docker.from-untagged', kind: 'dockerfile', severity: 'MEDIUM', check: 'from-untagged', message: 'FROM without a tag means :latest: pin a version or digest' },

  // ---- docker compose / Kubernetes
  { id: 'compose.privileged', kind: 'compose', severity: 'CRITICAL', check: 'privileged', message: 'privileged container: root on the host' },
  { id: 'compose.docker-socket', kind: 'compose', severity: 'CRITICAL', check: 'docker-socket', message: 'Docker socket mounted into a container: root on the host' },
  { id: 'compose.host-namespace', kind: 'compose', severity: 'HIGH', check: 'host-namespace', message: "shares the host's network/PID/IPC/user namespace" },
  { id: 'compose.cap-add', kind: 'compose', severity: 'HIGH', check: 'cap-add', message: 'adds ALL or SYS_ADMIN-class capabilities' },
  { id: 'compose.unconfined', kind: 'compose', severity: 'HIGH', check: 'security-opt-unconfined', message: 'seccomp or AppArmor turned off (unconfined)' },
];

/** Secrets come from core/secrets (one scanner for the product); this is their rule id prefix and severity. */
export const SECRET_RULE_PREFIX = 'secret.';
export const SECRET_SEVERITY: Severity = 'HIGH';

export const SQL_START =
  /^\s*(select\s+[\s\S]+?\s+from\s|insert\s+into\s|update\s+[\w."`[\]]+\s+set\s|delete\s+from\s|drop\s+(table|database|schema|index)\s|create\s+(table|index|database|schema)\s|alter\s+table\s|truncate\s+(table\s+)?[\w."`]|replace\s+into\s|merge\s+into\s|with\s+\w+\s+as\s*\()/i;
/** Placeholders of the common drivers: $1 (pg), ? (mysql, sqlite), :name, %s and %(name)s (DB-API). */
export const SQL_PLACEHOLDER = /\$\d+|\?|(^|[^:]):[A-Za-z_]\w*|%s|%\(\w+\)s/;
/** A literal piece that is a whole WHERE-clause comparison waiting for a value: `" WHERE id = " + id`. */
export const SQL_WHERE_FRAGMENT = /^\s*(where|and|or)\s+[\w."`]+\s*(=|<>|!=|<=|>=|<|>|like|in)\s*['"(]?\s*$/i;
