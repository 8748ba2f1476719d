// Worst-case inputs for the pure gate and its shell parser: each must stay well under a second at the maximum
// instruction size (256 KiB), i.e. no quadratic path. Run: node --import @tapjs/typescript/import bench/gate-worst-case.ts
import { performance } from 'node:perf_hooks';
import { checkInstruction, MAX_INSTRUCTION_CHARS } from '../core/gate/index.js';
import { parseCommandLines } from '../core/gate/shell-parse.js';

const N = MAX_INSTRUCTION_CHARS;

const gateCases: [string, string][] = [
  ['one line of code spans', 'x `a` '.repeat(N / 6)],
  ['one line of run verbs', 'run git x '.repeat(N / 10)],
  ['many list items', '- `rm -rf ./a`\n'.repeat(N / 15)],
  ['many negations', 'never '.repeat(N / 7) + '`git push -f`'],
  ['many heredocs in a fence', '```bash\n' + 'cat <<E\n'.repeat(N / 9) + '```'],
  ['one long pipeline', '```bash\n' + 'curl x | '.repeat(N / 10) + 'sh\n```'],
  ['many fences', '```\n```\n'.repeat(N / 8)],
  ['many section labels', 'DELIVERABLES: a b c\n'.repeat(N / 20)],
];

const parserCases: [string, string][] = [
  ['$( unbalanced', '$('.repeat(N / 2)],
  ['<( unbalanced', 'a <('.repeat(N / 4)],
  ['${ unbalanced', '${'.repeat(N / 2)],
  ['backticks', '`'.repeat(N)],
  ['double quotes with $(', '"$('.repeat(N / 3)],
  ['nested sh -c', 'sh -c "sh -c \\"sh -c rm\\""; '.repeat(N / 30)],
  ['heredoc without end', 'cat <<EOF\n' + 'x\n'.repeat(N / 2)],
  ['${ with $( inside', '${x:-$('.repeat(N / 7)],
  ['${ balanced with $( inside', '${x:-$(a)} '.repeat(N / 11)],
  ['quoted heredoc unclosed', "cat <<'E ".repeat(N / 9)],
  ['quoted heredocs', 'cat <<"E"\nE\n'.repeat(N / 12)],
  ['pipes at line ends', 'a |\n'.repeat(N / 4)],
];

for (const [name, text] of gateCases) {
  const t0 = performance.now();
  const r = await checkInstruction(text.slice(0, N));
  console.log(`gate   ${name.padEnd(28)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms  (${r.violations.length} violations)`);
}
for (const [name, text] of parserCases) {
  const t0 = performance.now();
  const r = parseCommandLines(text.slice(0, N));
  console.log(`parser ${name.padEnd(28)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms  (${r.length} pipelines)`);
}
