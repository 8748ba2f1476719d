// Applies the instruction-rule table to the runnable snippets: text rules to the snippet, command rules to every
// parsed command (pipelines, substitutions and nested `sh -c` scripts included).
import {
  INSTRUCTION_RULES,
  SQL_CLIENTS,
  SQL_FIRST_WORDS,
  type CommandInvocation,
  type InstructionRule,
} from '../policy/instruction-rules.js';
import type { Snippet } from './runnable-snippets.js';
import { parseCommandLines } from './shell-parse.js';

export interface Violation {
  rule: string;
  /** What matched, one line, at most EXCERPT_MAX characters; taken from already-redacted text. */
  excerpt: string;
}

export const EXCERPT_MAX = 200;
export const MAX_VIOLATIONS = 50;

export function excerptOf(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > EXCERPT_MAX ? `${one.slice(0, EXCERPT_MAX - 1)}…` : one;
}

function textExcerpt(rule: InstructionRule, snippet: string): string {
  const line = snippet.split('\n').find((l) => rule.text!(l));
  return excerptOf(line ?? snippet);
}

const base = (w: string | undefined): string => (w ?? '').replace(/^.*\//, '');

/** What a shell snippet sends to a database: SQL clients' commands (arguments and here-documents) and bare SQL. */
function sqlParts(pipelines: readonly { commands: readonly CommandInvocation[] }[]): string {
  const parts: string[] = [];
  for (const p of pipelines) {
    for (const c of p.commands) {
      if (SQL_FIRST_WORDS.has((c.argv[0] ?? '').toUpperCase()) || c.argv.some((w) => SQL_CLIENTS.has(base(w)))) {
        parts.push(c.argv.join(' '), ...c.heredocs);
      }
    }
  }
  return parts.join('\n');
}

export function findViolations(snippets: readonly Snippet[], rules: readonly InstructionRule[] = INSTRUCTION_RULES): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  const add = (rule: string, excerpt: string): void => {
    const key = `${rule}\u0000${excerpt}`;
    if (seen.has(key) || out.length >= MAX_VIOLATIONS) return;
    seen.add(key);
    out.push({ rule, excerpt });
  };
  for (const snippet of snippets) {
    const pipelines = snippet.shell ? parseCommandLines(snippet.text) : [];
    let sqlText: string | null = null;
    for (const rule of rules) {
      if (!rule.text) continue;
      let target = snippet.text;
      if (snippet.shell && rule.textScope === 'sql') target = sqlText ??= sqlParts(pipelines);
      if (target && rule.text(target)) add(rule.id, textExcerpt(rule, target));
    }
    for (const pipeline of pipelines) {
      pipeline.commands.forEach((cmd, index) => {
        for (const rule of rules) {
          if (!rule.command || !rule.command(cmd, pipeline.commands, index)) continue;
          const source = rule.excerpt === 'pipeline' ? pipeline.commands.map((c) => c.raw).join(' | ') : cmd.raw;
          add(rule.id, excerptOf(source || cmd.argv.join(' ')));
        }
      });
    }
  }
  return out;
}
