// Every row of SECURITY_RULES has a sample that fires (at the stated line) and a near miss that does not: the same
// words in a comment or a string fixture, the safe form of the call, or a lookalike method.
import t from 'tap';
import { SECURITY_RULES } from '../../validation/security-rules.js';
import type { SourceFile } from '../../validation/types.js';
import { securityFindings } from './fixtures/helpers.js';

interface Case {
  rule: string;
  /** What the sample shows, for the test name. */
  what: string;
  fires: SourceFile;
  line: number;
  nearMiss: SourceFile;
}

const ts = (content: string, path = 'src/a.ts'): SourceFile => ({ path, content });
const py = (content: string, path = 'app/a.py'): SourceFile => ({ path, content });
const sh = (content: string, path = 'scripts/a.sh'): SourceFile => ({ path, content });
const df = (content: string): SourceFile => ({ path: 'Dockerfile', content });
const compose = (service: string): SourceFile => ({ path: 'docker-compose.yml', content: `services:\n  web:\n    image: app:1.2\n${service}` });

const CASES: Case[] = [
  // ---- JS / TS
  { rule: 'js.eval', what: 'eval of a parameter', fires: ts('export function f(s: string) {\n  return eval(s);\n}\n'), line: 2,
    nearMiss: ts('// eval(s) is what we avoid\nconst doc = "eval(s)";\nconst o = { eval: (x: string) => x };\nexport const r = o.eval(doc);\n') },
  { rule: 'js.eval-literal', what: 'eval of a constant', fires: ts('export const two = eval("1 + 1");\n'), line: 1,
    nearMiss: ts('export const text = "eval(\'1 + 1\')";\n') },
  { rule: 'js.new-function', what: 'new Function with a dynamic body', fires: ts('export const mk = (body: string) =>\n  new Function("a", body);\n'), line: 2,
    nearMiss: ts('export const id = new Function("a", "return a");\n') },
  { rule: 'js.vm-run', what: 'vm.runInNewContext of input', fires: ts('import vm from "node:vm";\nexport const run = (code: string) => vm.runInNewContext(code, {});\n'), line: 2,
    nearMiss: ts('import vm from "node:vm";\nexport const two = vm.runInNewContext("1 + 1", {});\n') },
  { rule: 'js.child-process', what: 'exec of a computed command', fires: ts('import { exec } from "child_process";\nexport function run(cmd: string) {\n  exec(`ls ${cmd}`);\n}\n'), line: 3,
    nearMiss: ts('import { execFile } from "node:child_process";\nconst re = /a(b)/;\nexport function run(s: string) {\n  re.exec(s);\n  execFile("git", ["status"]);\n}\n// exec(cmd)\n') },
  { rule: 'js.child-process', what: 'require("child_process").execSync of a variable', fires: ts('const cp = require("child_process");\nmodule.exports = (c) => cp.execSync(c);\n', 'lib/a.js'), line: 2,
    nearMiss: ts('const cp = require("child_process");\nconst CMD = "git rev-parse HEAD";\nmodule.exports = () => cp.execSync(CMD);\n', 'lib/a.js') },
  { rule: 'js.child-process-program', what: 'spawn of a program chosen at run time', fires: ts('import { spawn } from "node:child_process";\nexport const run = (cmd: string, args: string[]) =>\n  spawn(cmd, args);\n'), line: 3,
    nearMiss: ts('import { spawn, execFile } from "node:child_process";\nspawn(process.execPath, ["worker.js"]);\nexecFile("git", ["log"]);\n') },
  { rule: 'js.child-process-shell', what: 'spawn sh -c with a computed script', fires: ts('import { spawn } from "node:child_process";\nexport const run = (cmd: string) =>\n  spawn("sh", ["-c", cmd]);\n'), line: 3,
    nearMiss: ts('import { spawn } from "node:child_process";\nexport const log = (ref: string) => spawn("git", ["log", ref]);\n') },
  { rule: 'js.tls-unverified', what: 'rejectUnauthorized: false', fires: ts('import https from "node:https";\nexport const req = https.request({ host: "x",\n  rejectUnauthorized: false });\n'), line: 3,
    nearMiss: ts('import https from "node:https";\nexport const req = https.request({ host: "x", rejectUnauthorized: true });\n// rejectUnauthorized: false\n') },
  { rule: 'js.tls-env-unverified', what: 'NODE_TLS_REJECT_UNAUTHORIZED = 0', fires: ts('process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";\n'), line: 1,
    nearMiss: ts('process.env.NODE_TLS_REJECT_UNAUTHORIZED = "1";\nexport const hint = "NODE_TLS_REJECT_UNAUTHORIZED = 0";\n') },
  { rule: 'js.sql-built', what: 'template literal SQL', fires: ts('export async function get(db: any, id: string) {\n  return db.query(`SELECT * FROM users WHERE id = ${id}`);\n}\n'), line: 2,
    nearMiss: ts('declare const sql: any;\nexport async function get(db: any, id: string, n: number) {\n  console.log("Selected " + n + " rows from cache");\n  await db.query(sql`SELECT * FROM users WHERE id = ${id}`);\n  return db.query("SELECT * FROM users WHERE id = $1", [id]);\n}\n') },
  { rule: 'js.sql-built', what: 'a quoted value in an otherwise parameterised query', fires: ts('export const q = (db: any, a: string, b: string) =>\n  db.query(`SELECT * FROM t WHERE a = $1 AND b = \'${b}\'`, [a]);\n'), line: 2,
    nearMiss: ts('const COLUMNS = ["a", "b"];\nexport const q = (db: any, a: string) =>\n  db.query(`SELECT ${COLUMNS.join(", ")} FROM t WHERE a = $1`, [a]);\n') },
  { rule: 'js.sql-interpolated', what: 'run-time text beside parameters', fires: ts('export const q = (db: any, cols: string, a: string) =>\n  db.query(`SELECT ${cols} FROM t WHERE a = $1`, [a]);\n'), line: 2,
    nearMiss: ts('const COLS = "a, b";\nexport const q = (db: any, a: string) =>\n  db.query(`SELECT ${COLS} FROM t WHERE a = $1`, [a]);\n') },
  { rule: 'js.sql-built', what: 'concatenated WHERE clause', fires: ts('export const q = (name: string) =>\n  "DELETE FROM sessions WHERE user = \'" + name + "\'";\n'), line: 2,
    nearMiss: ts('const TABLE = "sessions";\nexport const q = "DELETE FROM " + TABLE + " WHERE expired";\n') },

  // ---- Python
  { rule: 'py.eval', what: 'eval of input', fires: py('def calc(expr):\n    return eval(expr)\n'), line: 2,
    nearMiss: py('# eval(expr) would be unsafe\nDOC = "exec(expr)"\ndef q(cursor, a):\n    cursor.execute("SELECT 1 WHERE a = %s", (a,))\n') },
  { rule: 'py.eval-literal', what: 'eval of a constant', fires: py('x = eval("1 + 1")\n'), line: 1,
    nearMiss: py('import ast\nx = ast.literal_eval(s)\n') },
  { rule: 'py.pickle-load', what: 'pickle.loads', fires: py('import pickle\n\ndef load(b):\n    return pickle.loads(b)\n'), line: 4,
    nearMiss: py('import pickle\n\ndef dump(o):\n    return pickle.dumps(o)\n') },
  { rule: 'py.pickle-load', what: 'aliased import', fires: py('from pickle import load as unpickle\nobj = unpickle(f)\n'), line: 2,
    nearMiss: py('from json import load as unpickle\nobj = unpickle(f)\n') },
  { rule: 'py.yaml-load', what: 'yaml.load without Loader', fires: py('import yaml\ncfg = yaml.load(text)\n'), line: 2,
    nearMiss: py('import yaml\ncfg = yaml.load(text, Loader=yaml.SafeLoader)\ncfg2 = yaml.safe_load(text)\ncfg3 = yaml.load(text, yaml.CSafeLoader)\n') },
  { rule: 'py.yaml-load', what: 'yaml.load with the full Loader', fires: py('import yaml\ncfg = yaml.load(text, Loader=yaml.Loader)\n'), line: 2,
    nearMiss: py('import yaml\ncfg = yaml.safe_load(text)\n') },
  { rule: 'py.subprocess-shell', what: 'shell=True with a variable', fires: py('import subprocess\n\nsubprocess.run(cmd, shell=True)\n'), line: 3,
    nearMiss: py('import subprocess\n\nsubprocess.run(["ls", path], shell=False)\nsubprocess.run(cmd)\n') },
  { rule: 'py.subprocess-shell', what: 'shell=True with an f-string', fires: py('import subprocess as sp\nsp.check_output(f"grep {pat} log", shell=True)\n'), line: 2,
    nearMiss: py('import subprocess as sp\nsp.check_output(["grep", pat, "log"])\n') },
  { rule: 'py.subprocess-shell-literal', what: 'shell=True with a constant', fires: py('import subprocess\nsubprocess.call("ls -l | wc -l", shell=True)\n'), line: 2,
    nearMiss: py('import subprocess\nsubprocess.call(["ls", "-l"])\n') },
  { rule: 'py.shell-getoutput', what: 'getoutput of a variable', fires: py('import subprocess\nout = subprocess.getoutput(cmd)\n'), line: 2,
    nearMiss: py('import subprocess\nout = subprocess.getoutput("date")\n') },
  { rule: 'py.os-system', what: 'os.system of a concatenation', fires: py('import os\n\nos.system("rm " + path)\n'), line: 3,
    nearMiss: py('import os\n\np = os.path.join(a, b)\n# os.system(cmd)\n') },
  { rule: 'py.os-system-literal', what: 'os.system of a constant', fires: py('import os\nos.system("clear")\n'), line: 2,
    nearMiss: py('text = "os.system(\'clear\')"\n') },
  { rule: 'py.tls-unverified', what: 'verify=False', fires: py('import requests\nr = requests.get(url,\n    verify=False)\n'), line: 2,
    nearMiss: py('import requests\nr = requests.get(url, verify=True)\nverify_ssl = False\n') },
  { rule: 'py.tls-unverified-context', what: 'unverified SSL context', fires: py('import ssl\nctx = ssl._create_unverified_context()\n'), line: 2,
    nearMiss: py('import ssl\nctx = ssl.create_default_context()\n') },
  { rule: 'py.sql-built', what: 'f-string SQL', fires: py('def get(cur, uid):\n    cur.execute(f"SELECT * FROM t WHERE id = {uid}")\n'), line: 2,
    nearMiss: py('def get(cur, uid, n, log):\n    log.info(f"selected {n} rows")\n    cur.execute("SELECT * FROM t WHERE id = %s", (uid,))\n') },
  { rule: 'py.sql-interpolated', what: 'f-string columns beside parameters', fires: py('def get(cur, cols, uid):\n    cur.execute(f"SELECT {cols} FROM t WHERE id = %s", (uid,))\n'), line: 2,
    nearMiss: py('COLS = "a, b"\ndef get(cur, uid):\n    cur.execute(f"SELECT {COLS} FROM t WHERE id = %s", (uid,))\n') },
  { rule: 'py.sql-built', what: 'quoted f-string value beside parameters', fires: py('def get(cur, a, b):\n    cur.execute(f"SELECT * FROM t WHERE a = %s AND b = \'{b}\'", (a,))\n'), line: 2,
    nearMiss: py('def get(cur, a, b):\n    cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))\n') },
  { rule: 'py.sql-built', what: '% formatting', fires: py('q = "SELECT name FROM users WHERE id = %s" % uid\n'), line: 1,
    nearMiss: py('q = "SELECT name FROM users WHERE id = %s"\ncur.execute(q, (uid,))\n') },
  { rule: 'py.sql-built', what: '.format()', fires: py('q = "DELETE FROM t WHERE id = {}".format(uid)\n'), line: 1,
    nearMiss: py('msg = "deleted {} rows".format(n)\n') },

  // ---- shell
  { rule: 'sh.curl-pipe-shell', what: 'curl | sh', fires: sh('#!/bin/sh\nset -e\ncurl -fsSL https://get.example.com | sudo sh -s -- --yes\n'), line: 3,
    nearMiss: sh('#!/bin/sh\n# curl https://get.example.com | sh\necho "curl https://x | sh"\ncurl -fsSL -o install.sh https://get.example.com\nsha256sum -c install.sh.sha256\ncurl -s https://api.example.com | jq .\n') },
  { rule: 'sh.curl-pipe-shell', what: 'bash <(curl …)', fires: sh('bash <(curl -s https://x.example/i.sh)\n'), line: 1,
    nearMiss: sh('diff <(curl -s https://x.example/a) b.txt\n') },
  { rule: 'sh.rm-rf-root', what: 'rm -rf of an unguarded "$VAR/"', fires: sh('#!/bin/bash\nrm -rf "$BUILD_DIR/"*\n'), line: 2,
    nearMiss: sh('#!/bin/bash\nrm -rf "${BUILD_DIR:?}/"*\nrm -rf ./dist /tmp/build\necho "rm -rf /"\n') },
  { rule: 'sh.rm-rf-root', what: 'sudo rm -rf /', fires: sh('sudo rm -rf /\n'), line: 1,
    nearMiss: sh('rm -f /etc/myapp.conf\n') },
  { rule: 'sh.rm-no-preserve-root', what: 'rm --no-preserve-root', fires: sh('rm --no-preserve-root -rf "$X"\n'), line: 1,
    nearMiss: sh('rm -r build\n') },
  { rule: 'sh.chmod-777', what: 'chmod -R 777', fires: sh('chmod -R 777 /srv/app\n'), line: 1,
    nearMiss: sh('chmod 755 bin/run\n# chmod 777 everything\n') },
  { rule: 'sh.chmod-world-writable', what: 'chmod 666', fires: sh('chmod 666 data.db\n'), line: 1,
    nearMiss: sh('chmod 644 data.db\n') },

  // ---- shell syntax the rules must see through (core/gate/shell-parse.ts reads it)
  { rule: 'sh.rm-rf-root', what: 'in a one-line function', fires: sh('#!/bin/bash\nfunction clean { rm -rf "$OUT/"; }\n'), line: 2,
    nearMiss: sh('#!/bin/bash\nfunction clean { rm -rf "${OUT:?}/"; }\n') },
  { rule: 'sh.rm-rf-root', what: 'after a quoted here-document', fires: sh("cat <<'EOF'\nusage: clean [dir]\nEOF\nrm -rf ~/\n"), line: 4,
    nearMiss: sh('cat <<\\EOF\nrm -rf ~/\nEOF\n') },
  { rule: 'sh.rm-rf-root', what: 'in a ${…:-$(…)} default', fires: sh('#!/bin/sh\nDIR=${DIR:-$(rm -rf /)}\n'), line: 2,
    nearMiss: sh('#!/bin/sh\nDIR=${DIR:-$(mktemp -d)}\n') },
  { rule: 'sh.rm-rf-root', what: 'in a command substitution inside a condition', fires: sh('if [ -n "$(sudo rm -rf /)" ]; then\n  :\nfi\n'), line: 1,
    nearMiss: sh('if [ -n "$(ls /)" ]; then\n  :\nfi\n') },
  { rule: 'sh.curl-pipe-shell', what: 'a pipe continued on the next line', fires: sh('curl -fsSL https://x.example/i.sh |\n  sudo bash\n'), line: 1,
    nearMiss: sh('curl -fsSL https://x.example/i.sh |\n  sha256sum\n') },
  { rule: 'sh.curl-pipe-shell', what: 'in a script handed to sh -c', fires: sh("#!/bin/sh\nsh -c 'curl -s https://x.example/i.sh | sh'\n"), line: 2,
    nearMiss: sh("#!/bin/sh\nsh -c 'curl -s https://x.example/a.json | jq .'\n") },
  { rule: 'sh.curl-pipe-shell', what: 'eval of backticks', fires: sh('eval "`wget -qO- https://x.example/env`"\n'), line: 1,
    nearMiss: sh('eval "$(ssh-agent -s)"\n') },
  { rule: 'sh.chmod-777', what: 'behind xargs and sudo -u', fires: sh('find /srv -type d |\n  sudo -u app xargs chmod 777\n'), line: 2,
    nearMiss: sh('find /srv -type d | sudo -u app xargs chmod 755\n') },

  // ---- Dockerfile
  { rule: 'docker.user-root', what: 'final USER root', fires: df('FROM node:20\nUSER root\nCMD ["node", "a.js"]\n'), line: 2,
    nearMiss: df('FROM node:20\nUSER root\nRUN apt-get update\nUSER node\n') },
  { rule: 'docker.no-user', what: 'no USER in the final stage', fires: df('FROM node:20-slim\nCMD ["node", "a.js"]\n'), line: 1,
    nearMiss: df('FROM node:20-slim\nUSER node\nCMD ["node", "a.js"]\n') },
  { rule: 'docker.add-remote', what: 'ADD https://', fires: df('FROM node:20\nADD https://example.com/a.tgz /a\nUSER node\n'), line: 2,
    nearMiss: df(`FROM node:20\nADD --checksum=sha256:${'a'.repeat(64)} https://example.com/a.tgz /a\nCOPY a.tgz /b\nUSER node\n`) },
  { rule: 'docker.from-latest', what: 'FROM :latest', fires: df('FROM node:latest\nUSER node\n'), line: 1,
    nearMiss: df('FROM node:20.11-alpine\nUSER node\n') },
  { rule: 'docker.from-untagged', what: 'FROM without tag', fires: df('FROM ubuntu\nUSER nobody\n'), line: 1,
    nearMiss: df(`FROM node:20 AS build\nRUN npm ci\nFROM build\nFROM scratch\nFROM alpine@sha256:${'b'.repeat(64)}\nUSER 1000\n`) },

  // ---- compose
  { rule: 'compose.privileged', what: 'privileged: true', fires: compose('    privileged: true\n'), line: 4,
    nearMiss: compose('    privileged: false\n') },
  { rule: 'compose.docker-socket', what: 'docker.sock bind', fires: compose('    volumes:\n      - ./data:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n'), line: 6,
    nearMiss: compose('    # - /var/run/docker.sock:/var/run/docker.sock\n    environment:\n      - DOCKER_HOST=unix:///var/run/docker.sock\n    volumes:\n      - ./data:/data\n') },
  { rule: 'compose.docker-socket', what: 'long-syntax bind', fires: compose('    volumes:\n      - type: bind\n        source: /run/docker.sock\n        target: /var/run/docker.sock\n'), line: 5,
    nearMiss: compose('    volumes:\n      - type: volume\n        source: dbdata\n        target: /var/lib/db\n') },
  { rule: 'compose.host-namespace', what: 'network_mode: host', fires: compose('    network_mode: host\n'), line: 4,
    nearMiss: compose('    network_mode: bridge\n    pid: "service:db"\n') },
  { rule: 'compose.cap-add', what: 'cap_add SYS_ADMIN', fires: compose('    cap_add:\n      - SYS_ADMIN\n'), line: 5,
    nearMiss: compose('    cap_add:\n      - NET_BIND_SERVICE\n') },
  { rule: 'compose.unconfined', what: 'seccomp:unconfined', fires: compose('    security_opt:\n      - seccomp:unconfined\n'), line: 5,
    nearMiss: compose('    security_opt:\n      - no-new-privileges:true\n') },

  // ---- shell rules reached through other files
  { rule: 'sh.curl-pipe-shell', what: 'in a Dockerfile RUN continuation', fires: df('FROM debian:12\nRUN apt-get update && \\\n    curl -fsSL https://x.example/i.sh | bash\nUSER app\n'), line: 3,
    nearMiss: df('FROM debian:12\n# RUN curl https://x.example/i.sh | bash\nRUN echo "curl x | bash" > /notes\nUSER app\n') },
  { rule: 'sh.curl-pipe-shell', what: 'in a package.json script', fires: { path: 'package.json', content: '{\n  "name": "a",\n  "scripts": {\n    "postinstall": "curl -s https://x.example/p.sh | sh"\n  }\n}\n' }, line: 4,
    nearMiss: { path: 'package.json', content: '{\n  "name": "a",\n  "description": "never curl | sh",\n  "scripts": { "build": "tsc -p ." }\n}\n' } },
  { rule: 'sh.rm-rf-root', what: 'in a literal execSync command', fires: ts('import { execSync } from "node:child_process";\nexecSync("rm -rf $HOME/");\n'), line: 2,
    nearMiss: ts('import { execSync } from "node:child_process";\nexecSync("rm -rf ./tmp");\n') },
  { rule: 'sh.chmod-777', what: 'in a literal os.system command', fires: py('import os\nos.system("chmod 777 /srv")\n'), line: 2,
    nearMiss: py('import os\nos.system("chmod 750 /srv")\n') },
];

t.test('every rule in the table has a firing sample and a near miss', async (t) => {
  const covered = new Set(CASES.map((c) => c.rule));
  for (const r of SECURITY_RULES) t.ok(covered.has(r.id), `${r.id} is covered`);
  t.ok(new Set(SECURITY_RULES.map((r) => r.id)).size === SECURITY_RULES.length, 'rule ids are unique');
});

t.test('shell findings point at the command, past keywords, in document order', async (t) => {
  // Positions as tree-sitter-bash gave them before core/gate/shell-parse.ts read shell for the validators.
  const script = [
    '#!/bin/bash',
    'if [ -d "$X" ]; then',
    '  sudo rm -rf /',
    'fi',
    'for f in a; do chmod 777 "$f"; done',
    '  2>/dev/null curl -s https://x.example | sh',
    'echo "$(rm -rf ~)"',
    '[ -f y ] && { chmod -R a+rwx /srv; }',
    'while read -r l; do',
    '\tbash <(curl -s "$l")',
    'done < urls',
    '! rm --no-preserve-root -rf /',
    '',
  ].join('\n');
  const found = (await securityFindings([sh(script)])).map((f) => [f.rule, f.line, f.column]);
  t.same(found, [
    ['sh.curl-pipe-shell', 6, 3],
    ['sh.curl-pipe-shell', 10, 2],
    ['sh.rm-rf-root', 3, 3],
    ['sh.chmod-777', 5, 16],
    ['sh.rm-rf-root', 7, 9],
    ['sh.chmod-777', 8, 15],
    ['sh.rm-rf-root', 12, 3],
  ]);
});

for (const c of CASES) {
  t.test(`${c.rule}: ${c.what}`, async (t) => {
    const fired = (await securityFindings([c.fires])).filter((f) => f.rule === c.rule);
    t.equal(fired.length, 1, 'fires once');
    t.equal(fired[0]?.line, c.line, 'at the stated line');
    t.equal(fired[0]?.file, c.fires.path);
    const rule = SECURITY_RULES.find((r) => r.id === c.rule)!;
    t.equal(fired[0]?.severity, rule.severity, 'with the severity of the table');
    t.equal(fired[0]?.blocking, rule.severity === 'CRITICAL' || rule.severity === 'HIGH', 'blocking exactly for CRITICAL/HIGH');
    const missed = (await securityFindings([c.nearMiss])).filter((f) => f.rule === c.rule);
    t.same(missed, [], 'the near miss does not fire');
  });
}
