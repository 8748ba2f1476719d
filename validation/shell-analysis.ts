// Commands and pipelines of a shell script, read by the product's one shell parser: core/gate/shell-parse.ts, the
// parser the instruction gate judges commands with, so a script in a change and a command in an instruction are read
// alike. It never throws, so a half-valid script still yields its commands. Comments, quoted strings and here-document
// bodies are not commands (`echo "rm -rf /"` is an echo); `$(…)`, backticks, `<(…)` and scripts handed to another
// shell (`sh -c '…'`, `eval "…"`, `bash <<EOF`) are, and wrappers (sudo, env X=1, nohup, timeout, xargs…) are
// stripped. Syntax errors are not this module's business: the syntax validator asks mvdan/sh (sh-syntax).
import { parseCommandLines, parseShell } from '../core/gate/shell-parse.js';

export interface ShellCommand {
  /** Command name (last path segment) after wrappers are stripped. */
  name: string;
  /** Words after the name, quotes removed, expansions as written (`$HOME`, `${DIR:?}`, `$(curl …)`). */
  args: readonly string[];
  line: number;
  column: number;
}

export interface ShellPipeline {
  /** The simple commands joined by `|`; only pipelines of two or more commands are listed. */
  commands: ShellCommand[];
  line: number;
  column: number;
}

const base = (w: string): string => w.replace(/^.*\//, '');

/** 1-based line and column of each offset of `text`, by binary search over the line starts. */
function positions(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
}

/**
 * Every command and every `|` pipeline of `text`, in document order (a substitution's commands after the command they
 * are in); lines are shifted by `lineOffset` (the text's place in its file).
 */
export function shellCommands(text: string, lineOffset = 0): { commands: ShellCommand[]; pipelines: ShellPipeline[] } {
  const at = positions(text);
  const commands: { start: number; command: ShellCommand }[] = [];
  const pipelines: { start: number; pipeline: ShellPipeline }[] = [];
  for (const p of parseCommandLines(text)) {
    const cmds: ShellCommand[] = [];
    for (const c of p.commands) {
      // A bare assignment (`X=1`) or `command -v x` runs nothing.
      if (c.argv.length === 0) continue;
      const pos = at(c.start);
      const command = { name: base(c.argv[0]), args: c.argv.slice(1), line: pos.line + lineOffset, column: pos.column };
      cmds.push(command);
      commands.push({ start: c.start, command });
    }
    if (p.commands.length > 1 && cmds.length > 0) {
      const start = p.commands[0].start;
      const pos = at(start);
      pipelines.push({ start, pipeline: { commands: cmds, line: pos.line + lineOffset, column: pos.column } });
    }
  }
  // Array.prototype.sort is stable: commands of a script handed to another shell share a start and keep their order.
  return {
    commands: commands.sort((a, b) => a.start - b.start).map((c) => c.command),
    pipelines: pipelines.sort((a, b) => a.start - b.start).map((p) => p.pipeline),
  };
}

/** Names of the commands run by the `$(…)`, backtick and `<(…)` substitutions in one word: `"$(curl -s x)"` → curl. */
export function substitutedCommands(word: string): string[] {
  if (!/\$\(|<\(|>\(|`/.test(word)) return [];
  const names: string[] = [];
  for (const sub of parseShell(word).substitutions) {
    for (const p of parseCommandLines(sub.text)) for (const c of p.commands) if (c.argv.length > 0) names.push(base(c.argv[0]));
  }
  return names;
}
