// Syntax validator: every file that a parser exists for must parse. Any error is HIGH (blocking) and names file,
// line and column. Parsers: the TypeScript compiler (JS/TS/TSX), tree-sitter (Python), mvdan/sh through sh-syntax
// (bash, POSIX sh, bats), JSON.parse (JSON), the TypeScript JSON parser (JSONC), yaml (YAML), dockerfile-utils
// (Dockerfile), smol-toml (TOML), and our own line parser (requirements files).
//
// Shell: mvdan/sh (the parser of shfmt) is the one syntax checker, for every shell file, in the file's dialect (bash,
// POSIX sh, bats). It is kept beside core/gate/shell-parse.ts (which reads shell for the security rules and the gate)
// because the two do different jobs: shell-parse is total and lenient on purpose (a judge must read broken shell too,
// synchronously, in processes that load no WASM), so it cannot say what is an error; mvdan/sh knows bash's grammar and
// names the position. Tree-sitter-bash is not used: its error recovery flagged valid heredocs and case patterns (8 of
// 145 system scripts on this machine) and let invalid scripts through (`else fi`, a stray `done`), so it could only
// ever have been a pre-filter for mvdan/sh, one that hid real errors. The price is mvdan/sh on every shell file: about
// 5 ms each (a fresh WASM instance per call, see check-shell-syntax.ts) where tree-sitter took well under 1 ms.
import { validate as validateDockerfile } from 'dockerfile-utils';
import { LangVariant } from 'sh-syntax';
import { parse as parseToml } from 'smol-toml';
import ts from 'typescript';
import { parseRequirements } from './manifests.js';
import { lineCol, type Project, type ProjectFile } from './project.js';
import { nodesOfType } from './python-analysis.js';
import { checkShellSyntax } from './check-shell-syntax.js';
import { walkTree, type TsNode } from './tree-sitter.js';
import type { Finding, ValidatorOutcome } from './types.js';

/** Per file, so a garbled file does not drown the report; the first error is what matters. */
const MAX_ERRORS_PER_FILE = 3;

function finding(file: string, line: number, column: number | undefined, rule: string, message: string): Finding {
  return { validator: 'syntax', severity: 'HIGH', file, line, column, rule, message, blocking: true };
}

function jsErrors(p: Project, f: ProjectFile): Finding[] {
  const sf = f.ts!;
  const diags = p.program ? p.program.getSyntacticDiagnostics(sf) : [];
  return diags.slice(0, MAX_ERRORS_PER_FILE).map((d) => {
    const lc = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    return finding(f.path, lc.line + 1, lc.character + 1, 'syntax.parse-error', ts.flattenDiagnosticMessageText(d.messageText, ' '));
  });
}

function shortToken(text: string): string {
  const t = text.split('\n')[0].trim();
  return t.length > 0 && t.length <= 12 ? ` near '${t}'` : '';
}

function pythonErrors(f: ProjectFile): Finding[] {
  const out: Finding[] = [];
  const root = f.tree!.rootNode;
  const visit = (n: TsNode): void => {
    if (out.length >= MAX_ERRORS_PER_FILE) return;
    const at = (msg: string, rule = 'syntax.parse-error') =>
      out.push(finding(f.path, n.startPosition.row + 1, n.startPosition.column + 1, rule, msg));
    if (n.isMissing) at(`missing '${n.type}'`);
    else if (n.type === 'ERROR') at(`invalid syntax${shortToken(n.text)}`);
    // tree-sitter-python still accepts Python 2 statements; Python 3 does not.
    else if (n.type === 'print_statement' || n.type === 'exec_statement')
      at(`Python 2 '${n.type === 'print_statement' ? 'print' : 'exec'}' statement is a syntax error in Python 3`, 'syntax.python2');
  };
  if (!root.hasError) {
    for (const n of nodesOfType(root, ['print_statement', 'exec_statement'])) visit(n);
    return out;
  }
  for (const n of walkTree(root)) {
    if (out.length >= MAX_ERRORS_PER_FILE) break;
    if (n.isMissing || n.type === 'ERROR' || n.type === 'print_statement' || n.type === 'exec_statement') visit(n);
  }
  return out;
}

async function shellErrors(f: ProjectFile): Promise<Finding[]> {
  const variant = f.language === 'sh' ? LangVariant.LangPOSIX : f.language === 'bats' ? LangVariant.LangBats : LangVariant.LangBash;
  try {
    await checkShellSyntax(f.content, variant);
    return [];
  } catch (e) {
    const err = e as { Pos?: { Line: number; Col: number }; Text?: string; message?: string };
    let line = err.Pos?.Line ?? 0;
    let column: number | undefined = err.Pos?.Col;
    let msg = err.Text ?? err.message ?? 'invalid shell syntax';
    // sh-syntax reports some errors as "L:C: message" without a Pos.
    const m = /^(\d+):(\d+): (.*)$/s.exec(msg);
    if (m) {
      line = Number(m[1]);
      column = Number(m[2]);
      msg = m[3]!;
    }
    const dialect = f.language === 'sh' ? 'POSIX sh' : f.language;
    return [finding(f.path, Math.max(line, 1), column, 'syntax.parse-error', `${dialect}: ${msg}`)];
  }
}

function jsonErrors(f: ProjectFile): Finding[] {
  if (f.content.trim() === '') return [finding(f.path, 1, 1, 'syntax.parse-error', 'empty JSON file')];
  try {
    // A leading byte-order mark is legal in a JSON file on disk but JSON.parse rejects it.
    JSON.parse(f.content.replace(/^\uFEFF/, ''));
    return [];
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /at position (\d+)/.exec(msg);
    const lc = lineCol(f.content, pos ? Number(pos[1]) : f.content.length);
    return [finding(f.path, lc.line, lc.column, 'syntax.parse-error', msg.replace(/ in JSON at position \d+.*$/, ''))];
  }
}

function jsoncErrors(f: ProjectFile): Finding[] {
  const sf = ts.parseJsonText(f.path, f.content);
  const diags = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  return diags.slice(0, MAX_ERRORS_PER_FILE).map((d) => {
    const lc = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    return finding(f.path, lc.line + 1, lc.character + 1, 'syntax.parse-error', ts.flattenDiagnosticMessageText(d.messageText, ' '));
  });
}

function yamlErrors(f: ProjectFile): Finding[] {
  const out: Finding[] = [];
  for (const doc of f.yaml ?? []) {
    for (const e of doc.errors) {
      if (out.length >= MAX_ERRORS_PER_FILE) break;
      const lc = lineCol(f.content, e.pos[0]);
      out.push(finding(f.path, lc.line, lc.column, 'syntax.parse-error', e.message.split('\n')[0]));
    }
  }
  return out;
}

function dockerfileErrors(f: ProjectFile): Finding[] {
  return validateDockerfile(f.content)
    .filter((d) => d.severity === 1)
    .slice(0, MAX_ERRORS_PER_FILE)
    .map((d) => finding(f.path, d.range.start.line + 1, d.range.start.character + 1, 'syntax.parse-error', typeof d.message === 'string' ? d.message : d.message.value));
}

function tomlErrors(f: ProjectFile): Finding[] {
  try {
    parseToml(f.content);
    return [];
  } catch (e) {
    const err = e as { line?: number; column?: number; message?: string };
    return [finding(f.path, err.line ?? 1, err.column, 'syntax.parse-error', (err.message ?? 'invalid TOML').split('\n')[0])];
  }
}

function requirementsErrors(f: ProjectFile): Finding[] {
  return parseRequirements(f.content)
    .errors.slice(0, MAX_ERRORS_PER_FILE)
    .map((e) => finding(f.path, e.line, 1, 'syntax.parse-error', e.message));
}

export async function validateSyntax(project: Project): Promise<ValidatorOutcome> {
  const findings: Finding[] = [];
  let checked = 0;
  for (const u of project.unreadable) {
    findings.push(finding(u.path, 0, undefined, 'syntax.file-unreadable', `listed file cannot be read: ${u.reason}`));
  }
  for (const f of project.files) {
    if (f.binary) continue;
    let errs: Finding[] | null = null;
    switch (f.language) {
      case 'javascript':
      case 'typescript':
      case 'tsx':
        errs = jsErrors(project, f);
        break;
      case 'python':
        errs = pythonErrors(f);
        break;
      case 'bash':
      case 'sh':
      case 'bats':
        errs = await shellErrors(f);
        break;
      case 'json':
        errs = jsonErrors(f);
        break;
      case 'jsonc':
        errs = jsoncErrors(f);
        break;
      case 'yaml':
        errs = yamlErrors(f);
        break;
      case 'dockerfile':
        errs = dockerfileErrors(f);
        break;
      case 'toml':
        errs = tomlErrors(f);
        break;
      case 'requirements':
        errs = requirementsErrors(f);
        break;
      case 'other':
        break;
    }
    if (errs) {
      checked++;
      findings.push(...errs);
    }
  }
  return { findings, checked, base: 100, notes: [] };
}
