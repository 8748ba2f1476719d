// Commands and pipelines of a shell script from its tree-sitter bash tree (error-tolerant, so a half-valid script
// still yields its commands). Comments and quoted strings are not commands; `echo "rm -rf /"` is an echo.
import { nodesOfType } from './python-analysis.js';
import type { TsNode, TsTree } from './tree-sitter.js';

export interface ShellWord {
  /** Source text with quotes removed (expansions kept as written: `$HOME`, `${DIR:?}`). */
  text: string;
  node: TsNode;
}

export interface ShellCommand {
  /** Command name after wrappers (sudo, env, nohup, time, command, exec, doas) are stripped. */
  name: string;
  args: ShellWord[];
  node: TsNode;
  line: number;
  column: number;
}

export interface ShellPipeline {
  commands: ShellCommand[];
  node: TsNode;
  line: number;
  column: number;
}

const WRAPPERS = new Set(['sudo', 'doas', 'env', 'nohup', 'time', 'command', 'exec', 'nice', 'stdbuf', 'timeout']);

function unquote(s: string): string {
  return s.replace(/^\$'/, "'").replace(/["']/g, '');
}

function toCommand(n: TsNode, lineOffset: number): ShellCommand | null {
  const nameNode = n.childForFieldName('name');
  if (!nameNode) return null;
  const words: ShellWord[] = [{ text: unquote(nameNode.text), node: nameNode }];
  for (const a of n.childrenForFieldName('argument')) if (a) words.push({ text: unquote(a.text), node: a });
  // Strip wrappers and their options/assignments: `sudo -E env FOO=1 rm -rf /` → rm -rf /
  let i = 0;
  while (i < words.length && WRAPPERS.has(words[i].text.split('/').pop()!)) {
    const w = words[i].text.split('/').pop()!;
    i++;
    while (i < words.length && (words[i].text.startsWith('-') || (w === 'env' && /^[A-Za-z_]\w*=/.test(words[i].text)) || (w === 'timeout' && /^\d/.test(words[i].text)))) i++;
  }
  if (i >= words.length) return null;
  return {
    name: words[i].text.split('/').pop()!,
    args: words.slice(i + 1),
    node: n,
    line: n.startPosition.row + 1 + lineOffset,
    column: n.startPosition.column + 1,
  };
}

export function shellCommands(tree: TsTree, lineOffset = 0): { commands: ShellCommand[]; pipelines: ShellPipeline[] } {
  const commands: ShellCommand[] = [];
  const pipelines: ShellPipeline[] = [];
  for (const n of nodesOfType(tree.rootNode, ['command', 'pipeline'])) {
    if (n.type === 'command') {
      const c = toCommand(n, lineOffset);
      if (c) commands.push(c);
    } else if (n.type === 'pipeline') {
      const cmds: ShellCommand[] = [];
      for (const c of n.namedChildren) {
        if (!c) continue;
        const inner = c.type === 'redirected_statement' ? c.childForFieldName('body') : c;
        if (inner?.type === 'command') {
          const cmd = toCommand(inner, lineOffset);
          if (cmd) cmds.push(cmd);
        }
      }
      pipelines.push({ commands: cmds, node: n, line: n.startPosition.row + 1 + lineOffset, column: n.startPosition.column + 1 });
    }
  }
  return { commands, pipelines };
}
