// Syntax validator: each language's error is HIGH, blocking, and names file, line and column; valid files of the
// same language (including constructs that trip weaker parsers) produce nothing.
import t from 'tap';
import { buildProject } from '../../validation/project.js';
import { validateSyntax } from '../../validation/syntax-validator.js';
import type { Finding, SourceFile } from '../../validation/types.js';

async function syntax(files: SourceFile[], unreadable: { path: string; reason: string }[] = []): Promise<Finding[]> {
  const p = await buildProject(files, { unreadable });
  try {
    return (await validateSyntax(p)).findings;
  } finally {
    p.dispose();
  }
}

const BAD: { lang: string; file: SourceFile; line: number; column: number; message?: RegExp }[] = [
  { lang: 'TypeScript', file: { path: 'src/a.ts', content: 'export const a = 1;\nconst x: number = ;\n' }, line: 2, column: 19, message: /Expression expected/ },
  { lang: 'TSX', file: { path: 'src/c.tsx', content: 'export const C = () => <div>{1}</span>;\n' }, line: 1, column: 34 },
  { lang: 'JavaScript (type annotation)', file: { path: 'lib/a.js', content: 'const y: number = 1;\n' }, line: 1, column: 10, message: /only be used in TypeScript/ },
  { lang: 'JavaScript (unclosed brace)', file: { path: 'lib/b.mjs', content: 'export function f() {\n  return 1;\n' }, line: 3, column: 1 },
  { lang: 'Python', file: { path: 'app/a.py', content: 'import os\n\ndef f(:\n    pass\n' }, line: 3, column: 7 },
  { lang: 'Python 2 print', file: { path: 'app/b.py', content: 'x = 1\nprint "hello"\n' }, line: 2, column: 1, message: /Python 2/ },
  { lang: 'bash', file: { path: 'run.sh', content: '#!/bin/bash\nif [ -f x ]; then\n  echo hi\n' }, line: 2, column: 1, message: /fi/ },
  { lang: 'bash (if without a body in else, which tree-sitter-bash accepted)', file: { path: 'run3.sh', content: '#!/bin/bash\nif [ -f x ]; then\n  echo a\nelse\nfi\n' }, line: 4, column: 1, message: /else/ },
  { lang: 'bash (unclosed loop after associative-array keys)', file: { path: 'run4.sh', content: '#!/bin/bash\ndeclare -A m\nm[/etc/hosts]=x\nfor k in "${!m[@]}"; do\n  echo "$k"\n' }, line: 4, column: 1, message: /done/ },
  { lang: 'POSIX sh (bash array)', file: { path: 'run2.sh', content: '#!/bin/sh\narr=(a b)\n' }, line: 2, column: 5, message: /POSIX sh/ },
  { lang: 'JSON', file: { path: 'config/app.json', content: '{\n  "a": 1,\n}\n' }, line: 3, column: 1 },
  { lang: 'JSONC (tsconfig)', file: { path: 'tsconfig.json', content: '{\n  // ok\n  "compilerOptions": { "strict": true,, }\n}\n' }, line: 3, column: 39 },
  { lang: 'YAML', file: { path: '.github/workflows/ci.yml', content: 'on: push\njobs:\n  a: b: c\n' }, line: 3, column: 6, message: /Nested mappings/ },
  { lang: 'Dockerfile', file: { path: 'Dockerfile', content: 'FROM node:20\nRUNN npm ci\n' }, line: 2, column: 1, message: /Unknown instruction/ },
  { lang: 'TOML', file: { path: 'pyproject.toml', content: '[project]\nname = "a"\ndependencies = ["x",\n' }, line: 4, column: 1 },
  { lang: 'requirements', file: { path: 'requirements.txt', content: 'requests==2.31.0\n!!!bad\n' }, line: 2, column: 1 },
];

for (const c of BAD) {
  t.test(`syntax error in ${c.lang} is blocking with file, line and column`, async (t) => {
    const f = await syntax([c.file]);
    t.ok(f.length >= 1, 'reported');
    t.equal(f[0].file, c.file.path);
    t.equal(f[0].line, c.line, 'line');
    t.equal(f[0].column, c.column, 'column');
    t.equal(f[0].severity, 'HIGH');
    t.equal(f[0].blocking, true);
    if (c.message) t.match(f[0].message, c.message);
  });
}

const GOOD: { lang: string; file: SourceFile }[] = [
  { lang: 'TypeScript with decorators and generics', file: { path: 'src/a.ts', content: 'type A<T> = { [K in keyof T]?: T[K] };\nexport abstract class B<T> { abstract m(x: T): void }\nexport const s = `x${1}`;\n' } },
  { lang: 'JSX in a .js file', file: { path: 'src/App.js', content: 'export const App = () => <div className="a">{[1].map((x) => <b key={x}>{x}</b>)}</div>;\n' } },
  { lang: 'Python 3 with match, f-strings and walrus', file: { path: 'a.py', content: 'def f(x):\n    match x:\n        case [a, *rest]:\n            return f"{a!r:>10}"\n    if (n := len(x)) > 2:\n        print(n)\n    exec_count = 1\n' } },
  { lang: 'bash with heredoc, case, arrays, process substitution', file: { path: 'a.sh', content: '#!/usr/bin/env bash\nset -euo pipefail\ndeclare -A m=([a]=1)\ncat <<-EOT | sed s/x/y/\n\thello\n\tEOT\ncase "$1" in\n  start|run) echo go ;;\n  *) exit 1 ;;\nesac\nwhile read -r l; do echo "$l"; done < <(ls)\n' } },
  // mvdan/sh reads subscripts as arithmetic; bash does not check them when it parses (check-shell-syntax.ts).
  { lang: 'bash associative arrays with literal keys', file: { path: 'm.sh', content: '#!/bin/bash\ndeclare -A m=([/etc/hosts]=h [a.b]=1)\nm[/etc/resolv.conf]=r\nm[10.0.0.1]+=x\necho "${m[a.b]}" "${m[/etc/hosts]}"\n' } },
  { lang: 'POSIX sh', file: { path: 'b.sh', content: '#!/bin/sh\nset -eu\nfor f in *.txt; do\n  [ -f "$f" ] && echo "$f"\ndone\n' } },
  { lang: 'bats', file: { path: 'test/a.bats', content: '@test "adds" {\n  run echo 1\n  [ "$status" -eq 0 ]\n}\n' } },
  { lang: 'JSONC tsconfig with comments and trailing comma', file: { path: 'tsconfig.json', content: '{\n  // strict\n  "compilerOptions": { "strict": true, },\n}\n' } },
  { lang: 'JSON with a byte-order mark', file: { path: 'package.json', content: '\uFEFF{ "name": "a" }\n' } },
  { lang: 'multi-document YAML', file: { path: 'k8s.yaml', content: 'a: 1\n---\nb: [1, 2]\n' } },
  { lang: 'multi-stage Dockerfile with heredoc', file: { path: 'Dockerfile', content: 'FROM node:20 AS b\nRUN <<EOF\nnpm ci\nEOF\nFROM node:20-slim\nCOPY --from=b /app /app\nUSER node\n' } },
  { lang: 'requirements with options, extras, markers, hashes', file: { path: 'requirements.txt', content: '-r base.txt\n--index-url https://pypi.example/simple\nrequests[socks]>=2.31,<3 ; python_version >= "3.8"\nflask==3.0.0 \\\n    --hash=sha256:abc\n-e git+https://github.com/a/b.git#egg=b\n' } },
  { lang: 'unknown file types are not parsed', file: { path: 'README.md', content: '# {{{ not code\n' } },
];

for (const c of GOOD) {
  t.test(`valid ${c.lang} passes`, async (t) => {
    t.same(await syntax([c.file]), []);
  });
}

t.test('a listed file that cannot be read is a blocking finding', async (t) => {
  const f = await syntax([], [{ path: 'src/missing.ts', reason: 'it does not exist' }]);
  t.equal(f.length, 1);
  t.equal(f[0].rule, 'syntax.file-unreadable');
  t.equal(f[0].file, 'src/missing.ts');
  t.equal(f[0].blocking, true);
  t.match(f[0].message, /does not exist/);
});

t.test('errors are capped per file but every broken file is named', async (t) => {
  const f = await syntax([
    { path: 'a.ts', content: 'const = ;\nconst = ;\nconst = ;\nconst = ;\nconst = ;\n' },
    { path: 'b.json', content: '{' },
  ]);
  t.ok(f.filter((x) => x.file === 'a.ts').length <= 3);
  t.ok(f.some((x) => x.file === 'b.json'));
});
