// Security validator: applies SECURITY_RULES (security-rules.ts) to the syntax trees, and to shell as the gate's parser
// reads it (shell-analysis.ts), so code in comments and strings never fires, and reports secrets through the product's
// one scanner (core/secrets) with redacted previews only.
import { posix } from 'node:path';
import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast';
import ts from 'typescript';
import { isMap, isPair, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { scanSecrets as defaultScanSecrets, type SecretFinding } from '../core/secrets/index.js';
import { constStrings, jsCalls, jsNodes, literalValue, nodePosition, type CallSite } from './js-analysis.js';
import { isJsLike, isShellLike } from './languages.js';
import { lineCol, type Project, type ProjectFile } from './project.js';
import { nodesOfType, pyCalls, pyHasInterpolation, pyLiteralString, type PyCall } from './python-analysis.js';
import {
  SECRET_RULE_PREFIX,
  SECRET_SEVERITY,
  SECURITY_RULES,
  SHELL_BINARIES,
  SQL_PLACEHOLDER,
  SQL_START,
  SQL_WHERE_FRAGMENT,
  type ComposeRule,
  type DockerfileRule,
  type PyCallRule,
  type SecurityRule,
  type ShellCommandRule,
  type ShellPipeRule,
} from './security-rules.js';
import { shellCommands, substitutedCommands, type ShellCommand, type ShellPipeline } from './shell-analysis.js';
import type { TsNode } from './tree-sitter.js';
import { isBlockingSeverity, type Finding, type ValidatorOutcome } from './types.js';

export interface SecurityOptions {
  /** Injected for tests; defaults to core/secrets. */
  scanSecrets?: (text: string) => Promise<SecretFinding[]>;
  rules?: readonly SecurityRule[];
}

type Emit = (rule: SecurityRule, line: number, column: number | undefined, detail?: string) => void;

function rulesOf<K extends SecurityRule['kind']>(rules: readonly SecurityRule[], kind: K): Extract<SecurityRule, { kind: K }>[] {
  return rules.filter((r): r is Extract<SecurityRule, { kind: K }> => r.kind === kind);
}

// ------------------------------------------------------------------ shell

function checkShellText(text: string, lineOffset: number, rules: readonly SecurityRule[], emit: Emit): void {
  if (text.trim() === '') return;
  const { commands, pipelines } = shellCommands(text, lineOffset);
  for (const rule of rulesOf(rules, 'sh-fetch-exec')) checkFetchExec(rule, commands, pipelines, emit);
  for (const c of commands) {
    const fired = new Set<string>();
    for (const rule of rulesOf(rules, 'sh-command')) {
      if (c.name !== rule.command || fired.has(rule.command)) continue;
      if (matchesShellCommand(rule, c.args)) {
        emit(rule, c.line, c.column);
        // One finding per command: chmod 777 is not also "world-writable".
        fired.add(rule.command);
      }
    }
  }
}

function matchesShellCommand(rule: ShellCommandRule, args: readonly string[]): boolean {
  const hasFlag = !rule.flagPattern || args.some((a) => rule.flagPattern!.test(a));
  return hasFlag && args.some((a) => rule.argPattern.test(a));
}

function checkFetchExec(rule: ShellPipeRule, commands: ShellCommand[], pipelines: ShellPipeline[], emit: Emit): void {
  for (const p of pipelines) {
    const i = p.commands.findIndex((c) => rule.fetchers.includes(c.name));
    if (i >= 0 && p.commands.slice(i + 1).some((c) => rule.interpreters.includes(c.name))) emit(rule, p.line, p.column);
  }
  // bash <(curl …), sh -c "$(wget …)", source <(curl …), eval "$(curl …)"
  for (const c of commands) {
    if (!rule.interpreters.includes(c.name)) continue;
    if (c.args.some((a) => substitutedCommands(a).some((n) => rule.fetchers.includes(n)))) emit(rule, c.line, c.column);
  }
}

// ------------------------------------------------------------------ JS / TS

function jsIsLiteral(arg: ts.Expression | undefined, consts: Map<string, string>): boolean {
  // process.execPath is this very Node binary, not input.
  return arg !== undefined && (literalValue(arg, consts) !== null || arg.getText() === 'process.execPath');
}

function jsRunsShell(call: CallSite, consts: Map<string, string>): boolean {
  const first = literalValue(call.args[0], consts);
  const argv = call.args[1];
  const opts = call.args.find((a): a is ts.ObjectLiteralExpression => ts.isObjectLiteralExpression(a));
  const shellOpt = opts?.properties.some(
    (p) => ts.isPropertyAssignment(p) && p.name.getText() === 'shell' && p.initializer.kind !== ts.SyntaxKind.FalseKeyword,
  );
  const argvDynamic =
    argv !== undefined &&
    (!ts.isArrayLiteralExpression(argv) || argv.elements.some((e) => !jsIsLiteral(e, consts)));
  const isShellBinary = first !== null && (SHELL_BINARIES as readonly string[]).includes(posix.basename(first));
  return argvDynamic && (isShellBinary || !!shellOpt);
}

function jsChecks(f: ProjectFile, rules: readonly SecurityRule[], emit: Emit): void {
  const sf = f.ts!;
  const consts = constStrings(sf);
  const calls = jsCalls(sf);
  for (const rule of rulesOf(rules, 'js-call')) {
    for (const c of calls) {
      if (!rule.callees.includes(c.callee) || (c.isNew && !rule.alsoNew)) continue;
      if (c.args.length === 0) continue;
      const literal = rule.anyArg ? c.args.every((a) => jsIsLiteral(a, consts)) : jsIsLiteral(c.args[0], consts);
      if (rule.viaShell) {
        if (literal && jsRunsShell(c, consts)) emit(rule, c.line, c.column);
        continue;
      }
      if (rule.firstArg === 'non-literal' && literal) continue;
      if (rule.firstArg === 'literal' && !literal) continue;
      emit(rule, c.line, c.column);
    }
  }
  // Literal commands handed to a shell are shell code: check them with the shell rules.
  for (const c of calls) {
    if (c.callee !== 'child_process.exec' && c.callee !== 'child_process.execSync') continue;
    const cmd = literalValue(c.args[0], consts);
    if (cmd !== null) checkShellText(cmd, c.line - 1, rules, emit);
  }
  const props = rulesOf(rules, 'js-property');
  const assigns = rulesOf(rules, 'js-assign');
  const sqlRules = rulesOf(rules, 'sql-build').filter((r) => r.language === 'js');
  const nodes = jsNodes(sf);
  for (const n of nodes.props) {
    for (const rule of props) {
      const name = ts.isIdentifier(n.name) || ts.isStringLiteral(n.name) ? n.name.text : null;
      if (name === rule.property && n.initializer.getText(sf) === rule.value) emit(rule, ...at(sf, n));
    }
  }
  for (const n of nodes.binaries) {
    if (n.operatorToken.kind !== ts.SyntaxKind.EqualsToken) continue;
    for (const rule of assigns) {
      const target = n.left.getText(sf).replace(/\[['"]([\w$]+)['"]\]/g, '.$1');
      const v = literalValue(n.right, consts);
      if (target === rule.target && v !== null && rule.values.includes(v)) emit(rule, ...at(sf, n));
    }
  }
  for (const n of [...nodes.templates, ...nodes.binaries]) {
    const v = sqlRules.length ? jsBuildsSql(n, consts) : null;
    const rule = v && sqlRules.find((r) => r.parameterized === (v === 'interpolated'));
    if (rule) emit(rule, ...at(sf, n));
  }
}

function at(sf: ts.SourceFile, n: ts.Node): [number, number] {
  const p = nodePosition(sf, n);
  return [p.line, p.column];
}

/** The literal and non-literal operands of a `+` chain. */
function plusOperands(e: ts.Expression, out: ts.Expression[] = []): ts.Expression[] {
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    plusOperands(e.left, out);
    plusOperands(e.right, out);
  } else if (ts.isParenthesizedExpression(e)) plusOperands(e.expression, out);
  else out.push(e);
  return out;
}

function looksLikeSql(pieces: string[]): boolean {
  // Joined with a stand-in for the dynamic parts so that `SELECT ${cols} FROM` still reads as SQL.
  return SQL_START.test(pieces.join(' _ ')) || pieces.some((p) => SQL_WHERE_FRAGMENT.test(p));
}

type SqlVerdict = 'built' | 'interpolated' | null;

/**
 * The verdict on SQL assembled from `pieces` (static text) and `dynamic` parts: no unsafe dynamic part → null; an
 * unsafe part in quotes (`'${x}'`) or no sign of parameters → 'built' (HIGH); otherwise 'interpolated' (MEDIUM).
 */
function sqlVerdict(pieces: string[], unsafeQuoted: boolean, unsafeCount: number, passedWithParams: boolean): SqlVerdict {
  if (unsafeCount === 0 || !looksLikeSql(pieces)) return null;
  if (unsafeQuoted) return 'built';
  return passedWithParams || SQL_PLACEHOLDER.test(pieces.join(' ')) ? 'interpolated' : 'built';
}

const CONSTANT_NAME = /^[A-Z][A-Z0-9_]*$/;

/** A literal, a const string, or an expression over a SCREAMING_CASE constant (`COLUMNS.join(', ')`). */
function jsSafePiece(e: ts.Expression, consts: Map<string, string>): boolean {
  if (literalValue(e, consts) !== null || ts.isNumericLiteral(e)) return true;
  let root: ts.Expression = e;
  for (;;) {
    if (ts.isCallExpression(root) || ts.isPropertyAccessExpression(root) || ts.isElementAccessExpression(root) || ts.isNonNullExpression(root) || ts.isParenthesizedExpression(root)) root = root.expression;
    else break;
  }
  return ts.isIdentifier(root) && CONSTANT_NAME.test(root.text);
}

function jsPassedWithParams(n: ts.Node): boolean {
  const p = n.parent;
  return ts.isCallExpression(p) && p.arguments[0] === n && p.arguments.length >= 2;
}

function jsBuildsSql(n: ts.Node, consts: Map<string, string>): SqlVerdict {
  // Untagged template with substitutions. Tagged templates (sql`…${x}`) are how safe query builders take parameters.
  if (ts.isTemplateExpression(n) && !ts.isTaggedTemplateExpression(n.parent)) {
    const pieces = [n.head.text, ...n.templateSpans.map((s) => s.literal.text)];
    let unsafe = 0;
    let quoted = false;
    n.templateSpans.forEach((span, i) => {
      if (jsSafePiece(span.expression, consts)) return;
      unsafe++;
      if (/['"]$/.test(pieces[i]) && /^['"]/.test(pieces[i + 1])) quoted = true;
    });
    return sqlVerdict(pieces, quoted, unsafe, jsPassedWithParams(n));
  }
  // The top of a `+` chain.
  if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const parent = n.parent;
    if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.PlusToken) return null;
    if (ts.isParenthesizedExpression(parent)) return null;
    const ops = plusOperands(n);
    const lits = ops.map((o) => literalValue(o, consts));
    let unsafe = 0;
    let quoted = false;
    ops.forEach((o, i) => {
      if (lits[i] !== null || jsSafePiece(o, consts)) return;
      unsafe++;
      if (/['"]$/.test(lits[i - 1] ?? '') && /^['"]/.test(lits[i + 1] ?? '')) quoted = true;
    });
    return sqlVerdict(lits.filter((l): l is string => l !== null), quoted, unsafe, jsPassedWithParams(n));
  }
  // `query += " WHERE id = " + id` is covered by the chain on its right-hand side.
  return null;
}

// ------------------------------------------------------------------ Python

function pyIsLiteral(n: TsNode | undefined): boolean {
  if (!n) return false;
  if (pyLiteralString(n) !== null) return true;
  return n.type === 'integer' || n.type === 'float' || n.type === 'true' || n.type === 'false' || n.type === 'none';
}

function pyCallMatches(rule: PyCallRule, c: PyCall): boolean {
  if (!rule.callees.includes('*') && !rule.callees.includes(c.callee)) return false;
  const first = c.positional[0] ?? c.keywords.get('args') ?? c.keywords.get('cmd') ?? c.keywords.get('command') ?? c.keywords.get('source');
  if (rule.firstArg !== 'any') {
    if (!first) return false;
    const lit = pyIsLiteral(first) || (first.type === 'list' && first.namedChildren.every((x) => pyIsLiteral(x ?? undefined)));
    if (rule.firstArg === 'literal' ? !lit : lit) return false;
  }
  if (rule.keywordIs && c.keywords.get(rule.keywordIs.name)?.text !== rule.keywordIs.text) return false;
  if (rule.keywordSafe) {
    // yaml.unsafe_load has no safe form.
    if (c.callee.includes('unsafe')) return true;
    const v = c.keywords.get(rule.keywordSafe.name) ?? c.positional[rule.keywordSafe.position];
    if (v && rule.keywordSafe.safe.includes(v.text)) return false;
  }
  return true;
}

/** A literal, or a name/attribute chain rooted at a SCREAMING_CASE constant. */
function pySafePiece(n: TsNode | null | undefined): boolean {
  if (!n) return true;
  if (pyIsLiteral(n)) return true;
  let root: TsNode | null = n;
  while (root && (root.type === 'attribute' || root.type === 'call' || root.type === 'subscript')) {
    root = root.childForFieldName(root.type === 'attribute' ? 'object' : root.type === 'call' ? 'function' : 'value');
  }
  return root?.type === 'identifier' && CONSTANT_NAME.test(root.text);
}

function pyPassedWithParams(n: TsNode): boolean {
  const args = n.parent;
  if (args?.type !== 'argument_list') return false;
  const positional = args.namedChildren.filter((c) => c && c.type !== 'keyword_argument' && c.type !== 'comment');
  return positional.length >= 2 && positional[0]?.equals(n) === true;
}

function pyBuildsSql(n: TsNode): SqlVerdict {
  if (n.type === 'string' && pyHasInterpolation(n)) {
    // An f-string: its literal parts and interpolations in order.
    const parts = n.namedChildren.filter((c): c is TsNode => !!c && (c.type === 'string_content' || c.type === 'interpolation'));
    const pieces = parts.filter((c) => c.type === 'string_content').map((c) => c.text);
    let unsafe = 0;
    let quoted = false;
    parts.forEach((c, i) => {
      if (c.type !== 'interpolation' || pySafePiece(c.childForFieldName('expression') ?? c.namedChildren[0])) return;
      unsafe++;
      if (/['"]$/.test(parts[i - 1]?.text ?? '') && /^['"]/.test(parts[i + 1]?.text ?? '')) quoted = true;
    });
    return sqlVerdict(pieces, quoted, unsafe, pyPassedWithParams(n));
  }
  if (n.type === 'binary_operator') {
    const op = n.childForFieldName('operator')?.text;
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    if (op === '%' && left) {
      // "… %s" % value is string formatting, the opposite of a parameter.
      const s = pyLiteralString(left);
      return s !== null && SQL_START.test(s) && !pySafePiece(right) ? 'built' : null;
    }
    if (op === '+') {
      if (n.parent?.type === 'binary_operator' && n.parent.childForFieldName('operator')?.text === '+') return null;
      const ops: (TsNode | null)[] = [];
      const flat = (x: TsNode | null): void => {
        if (x?.type === 'binary_operator' && x.childForFieldName('operator')?.text === '+') {
          flat(x.childForFieldName('left'));
          flat(x.childForFieldName('right'));
        } else if (x?.type === 'parenthesized_expression') flat(x.namedChildren[0] ?? null);
        else ops.push(x);
      };
      flat(n);
      const lits = ops.map((o) => pyLiteralString(o));
      let unsafe = 0;
      let quoted = false;
      ops.forEach((o, i) => {
        if (lits[i] !== null || pySafePiece(o)) return;
        unsafe++;
        if (/['"]$/.test(lits[i - 1] ?? '') && /^['"]/.test(lits[i + 1] ?? '')) quoted = true;
      });
      return sqlVerdict(lits.filter((l): l is string => l !== null), quoted, unsafe, pyPassedWithParams(n));
    }
  }
  if (n.type === 'call') {
    const fn = n.childForFieldName('function');
    if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'format') {
      const s = pyLiteralString(fn.childForFieldName('object'));
      const args = n.childForFieldName('arguments')?.namedChildren ?? [];
      const allSafe = args.every((a) => !a || (a.type === 'keyword_argument' ? pySafePiece(a.childForFieldName('value')) : pySafePiece(a)));
      return s !== null && SQL_START.test(s) && !allSafe ? 'built' : null;
    }
  }
  return null;
}

function pyChecks(f: ProjectFile, rules: readonly SecurityRule[], emit: Emit): void {
  const calls = pyCalls(f.tree!);
  const callRules = rulesOf(rules, 'py-call');
  for (const c of calls) {
    for (const rule of callRules) if (pyCallMatches(rule, c)) emit(rule, c.line, c.column);
    // Literal shell commands are shell code.
    const shellish = c.callee === 'os.system' || c.callee === 'os.popen' || (c.callee.startsWith('subprocess.') && c.keywords.get('shell')?.text === 'True');
    const cmd = shellish ? pyLiteralString(c.positional[0]) : null;
    if (cmd !== null) checkShellText(cmd, c.line - 1, rules, emit);
  }
  const sqlRules = rulesOf(rules, 'sql-build').filter((r) => r.language === 'python');
  if (sqlRules.length) {
    for (const n of nodesOfType(f.tree!.rootNode, ['string', 'binary_operator', 'call'])) {
      const v = pyBuildsSql(n);
      const rule = v && sqlRules.find((r) => r.parameterized === (v === 'interpolated'));
      if (rule) emit(rule, n.startPosition.row + 1, n.startPosition.column + 1);
    }
  }
}

// ------------------------------------------------------------------ Dockerfile

const ROOT_USER = /^(root|0)(:(root|0))?$/;

function dockerfileChecks(f: ProjectFile, rules: readonly SecurityRule[], emit: Emit): void {
  const df = DockerfileParser.parse(f.content);
  const instructions = df.getInstructions();
  const drules = rulesOf(rules, 'dockerfile');
  const rule = (check: DockerfileRule['check']) => drules.find((r) => r.check === check);
  const line = (i: Instruction) => i.getRange().start.line + 1;
  const stageNames = new Set<string>();
  let finalUser: Instruction | null = null;
  let inFinal = false;
  const froms = instructions.filter((i) => i.getKeyword() === 'FROM');
  const last = froms[froms.length - 1];
  for (const ins of instructions) {
    const kw = ins.getKeyword();
    if (kw === 'FROM') {
      const from = ins as From;
      const image = from.getImageName();
      const tag = from.getImageTag();
      const digest = from.getImageDigest();
      const stage = from.getBuildStage();
      inFinal = ins === last;
      finalUser = null;
      if (image && !image.includes('$') && image !== 'scratch' && !stageNames.has(image.toLowerCase())) {
        if (tag === 'latest' && rule('from-latest')) emit(rule('from-latest')!, line(ins), 1);
        else if (!tag && !digest && rule('from-untagged')) emit(rule('from-untagged')!, line(ins), 1);
      }
      if (stage) stageNames.add(stage.toLowerCase());
    } else if (kw === 'USER' && inFinal) {
      finalUser = ins;
    } else if (kw === 'ADD' && rule('add-remote')) {
      const flags = (ins as unknown as { getFlags(): { getName(): string }[] }).getFlags().map((x) => x.getName());
      const args = ins.getArguments().map((a) => a.getValue());
      const sources = args.slice(0, -1);
      if (!flags.includes('checksum') && sources.some((s) => /^(https?|ftp):\/\//i.test(s))) emit(rule('add-remote')!, line(ins), 1);
    } else if (kw === 'RUN') {
      // The raw text after RUN (continuations intact), so line numbers inside the command stay right.
      const r = ins.getRange();
      const lines = f.content.split('\n').slice(r.start.line, r.end.line + 1);
      lines[0] = lines[0].replace(/^\s*RUN\s+((--\S+\s+)*)/i, (m) => ' '.repeat(m.length));
      let script = lines.join('\n');
      // RUN <<EOF … EOF: the heredoc body is the script.
      const hd = /^\s*<<-?\s*["']?(\w+)["']?[^\n]*\n([\s\S]*?)\n\s*\1\s*$/.exec(script);
      if (hd) script = '\n' + hd[2];
      checkShellText(script, r.start.line, rules, emit);
    }
  }
  if (last && last.getArgumentsContent()?.trim() !== 'scratch') {
    const userArg = finalUser?.getArgumentsContent()?.trim();
    if (finalUser && userArg && ROOT_USER.test(userArg)) {
      if (rule('final-user-root')) emit(rule('final-user-root')!, line(finalUser), 1);
    } else if (!finalUser && rule('no-user')) emit(rule('no-user')!, line(last), 1);
  }
}

// ------------------------------------------------------------------ compose / Kubernetes YAML

function isComposePath(path: string): boolean {
  return /^(docker-)?compose([.-][\w.-]*)?\.ya?ml$/i.test(posix.basename(path));
}

function yamlChecks(f: ProjectFile, rules: readonly SecurityRule[], emit: Emit): void {
  const crules = rulesOf(rules, 'compose');
  const rule = (check: ComposeRule['check']) => crules.find((r) => r.check === check);
  const compose = isComposePath(f.path);
  const lineOf = (n: YamlNode | null | undefined) => (n?.range ? lineCol(f.content, n.range[0]) : { line: 1, column: 1 });
  const fire = (check: ComposeRule['check'], n: YamlNode | null | undefined) => {
    const r = rule(check);
    if (!r) return;
    const p = lineOf(n);
    emit(r, p.line, p.column);
  };
  const scalar = (n: unknown): string | null => (isScalar(n) ? String(n.value) : null);
  for (const doc of f.yaml ?? []) {
    if (doc.errors.length) continue;
    const stack: unknown[] = [doc.contents];
    while (stack.length) {
      const node = stack.pop();
      if (isSeq(node)) {
        for (const it of node.items) stack.push(it);
        continue;
      }
      if (!isMap(node)) continue;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = scalar(pair.key);
        const val = pair.value as YamlNode | null;
        const v = scalar(val);
        if (key === 'privileged' && v === 'true') fire('privileged', val);
        else if ((compose && ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts'].includes(key ?? '') && v === 'host') || (['hostNetwork', 'hostPID', 'hostIPC'].includes(key ?? '') && v === 'true'))
          fire('host-namespace', val);
        else if (key === 'cap_add' && isSeq(val)) {
          const bad = val.items.find((i) => /^(CAP_)?(ALL|SYS_ADMIN|SYS_PTRACE|SYS_MODULE|DAC_READ_SEARCH|NET_ADMIN)$/i.test(scalar(i) ?? ''));
          if (bad) fire('cap-add', bad as YamlNode);
        } else if (key === 'security_opt' && isSeq(val)) {
          const bad = val.items.find((i) => /(seccomp|apparmor)[:=]unconfined/i.test(scalar(i) ?? ''));
          if (bad) fire('security-opt-unconfined', bad as YamlNode);
        }
        else if (key === 'volumes' && compose && isSeq(val)) {
          for (const item of val.items) {
            const src = isMap(item) ? scalar(item.get('source', true)) : scalar(item)?.split(':')[0];
            if (src && /(^|\/)(var\/)?run\/docker\.sock$/.test(src)) fire('docker-socket', item as YamlNode);
          }
        } else if (key === 'hostPath' && isMap(val)) {
          const p = scalar(val.get('path', true));
          if (p && /docker\.sock$/.test(p)) fire('docker-socket', val);
        }
        if (val && (isMap(val) || isSeq(val))) stack.push(val);
      }
    }
  }
}

// ------------------------------------------------------------------ package.json scripts

function packageJsonScripts(f: ProjectFile, rules: readonly SecurityRule[], emit: Emit): void {
  let pkg: unknown;
  try {
    pkg = JSON.parse(f.content.replace(/^\uFEFF/, ''));
  } catch {
    return; // the syntax validator reports it
  }
  const scripts = (pkg as { scripts?: unknown })?.scripts;
  if (!scripts || typeof scripts !== 'object') return;
  for (const [name, cmd] of Object.entries(scripts as Record<string, unknown>)) {
    if (typeof cmd !== 'string') continue;
    const idx = f.content.indexOf(`"${name}"`);
    const line = idx >= 0 ? lineCol(f.content, idx).line : 1;
    checkShellText(cmd, line - 1, rules, emit);
  }
}

// ------------------------------------------------------------------ entry

// Files are joined for one scanner call per validation: the scanner has a per-call cost, and secretlint 12's global
// profiler keeps every performance mark of every call (see the note in docs/output-validation.md). NUL bytes between
// files keep a match from spanning two files.
const FILE_SEPARATOR = '\n\n\u0000\u0000\n\n';

async function secretsByFile(files: ProjectFile[], scan: (text: string) => Promise<SecretFinding[]>): Promise<Map<ProjectFile, SecretFinding[]>> {
  const starts: number[] = [];
  let text = '';
  for (const f of files) {
    if (text.length) text += FILE_SEPARATOR;
    starts.push(text.length);
    text += f.content;
  }
  const out = new Map<ProjectFile, SecretFinding[]>(files.map((f) => [f, []]));
  if (text.length === 0) return out;
  for (const s of await scan(text)) {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= s.start) lo = mid;
      else hi = mid - 1;
    }
    const f = files[lo];
    const start = s.start - starts[lo];
    if (start < 0 || start >= f.content.length) continue; // inside a separator
    const end = Math.min(s.end - starts[lo], f.content.length);
    const lc = lineCol(f.content, start);
    out.get(f)!.push({ ...s, start, end, line: lc.line, column: lc.column });
  }
  return out;
}

export async function validateSecurity(project: Project, opts: SecurityOptions = {}): Promise<ValidatorOutcome> {
  const rules = opts.rules ?? SECURITY_RULES;
  const scan = opts.scanSecrets ?? defaultScanSecrets;
  const secrets = await secretsByFile(project.files, scan);
  const findings: Finding[] = [];
  let checked = 0;
  for (const f of project.files) {
    const seen = new Set<string>();
    const emit: Emit = (rule, line, column, detail) => {
      const key = `${rule.id}:${line}:${column ?? 0}`;
      if (seen.has(key)) return;
      seen.add(key);
      findings.push({
        validator: 'security',
        severity: rule.severity,
        file: f.path,
        line,
        column,
        rule: rule.id,
        message: detail ? `${rule.message} (${detail})` : rule.message,
        blocking: isBlockingSeverity(rule.severity),
      });
    };
    checked++;
    if (!f.binary) {
      if (isJsLike(f.language) && f.ts) jsChecks(f, rules, emit);
      else if (f.language === 'python' && f.tree) pyChecks(f, rules, emit);
      else if (isShellLike(f.language)) checkShellText(f.content, 0, rules, emit);
      else if (f.language === 'dockerfile') dockerfileChecks(f, rules, emit);
      else if (f.language === 'yaml') yamlChecks(f, rules, emit);
      if (posix.basename(f.path) === 'package.json') packageJsonScripts(f, rules, emit);
    }
    for (const s of secrets.get(f) ?? []) {
      findings.push({
        validator: 'security',
        severity: SECRET_SEVERITY,
        file: f.path,
        line: s.line,
        column: s.column,
        rule: `${SECRET_RULE_PREFIX}${s.kind}`,
        message: `secret in code (${s.kind}): ${s.preview}`,
        blocking: isBlockingSeverity(SECRET_SEVERITY),
      });
    }
  }
  return { findings, checked, base: 100, notes: [] };
}
