// The escalation checks whose answer depends on the words of a value (tmpfs options, local volume driver options,
// volume drivers, security options, OOM and process-limit numbers), tried word by word: the body the real docker CLI
// builds for `docker create …` is judged by the proxy's escalation finder and must give exactly the kinds the
// TypeScript classifier names, and the wrapper (dash and busybox sh) must print the same line as the classifier.
// Unlike examples.ts these have no hand-written expectation: the proxy is the expectation.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { findEscalations } from '../../core/policy/escalation.js';
import { parseGoJson } from '../../core/policy/go-json.js';
import { normalizeTarget } from '../../core/policy/normalize.js';
import { classificationLine, classifyShell } from '../../core/policy/shell-classify.js';
import { run } from '../helpers/wingman.js';
import { baseEnv, fakeCreateDaemon, runWrapper, SHELLS, tmpDir } from './helpers.js';

const IMG = 'wingman-test/busybox:latest';

const OPTION_WORDS = [
  'rw', 'ro', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'dirsync', 'mand', 'noatime', 'strictatime',
  'bind', 'rbind', 'remount', 'Exec', 'NODEV', 'huge=always', 'mpol=bind', 'size=1m', 'size=64M', 'size=50%', 'size=1x',
  'size=', 'size=m', 'SIZE=1m', 'mode=700', 'mode=1777', 'mode=17777', 'mode=8', 'mode=', 'uid=0', 'uid=-1', 'uid=x',
  'gid=1000', 'nr_inodes=4k', 'nr_inodes=1%', 'nr_inodes=1', 'size=1m,nodev', 'uid=0,gid=0,mode=1777', 'rw,exec,suid',
  'size=1 m', 'rw ro',
];

/** `docker create` argument lists, each tried as is. */
function variants(): string[][] {
  const out: string[][] = [];
  for (const w of OPTION_WORDS) out.push(['--tmpfs', `/x:${w}`]);
  // one mount field per word: no commas inside a --mount field
  for (const w of OPTION_WORDS.filter((x) => !x.includes(','))) {
    out.push(['--mount', `type=volume,dst=/x,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=${w}`]);
  }
  for (const type of ['tmpfs', 'TmpFS', 'nfs', 'none', 'overlay', '']) {
    for (const device of [undefined, 'tmpfs', 'TMPFS', '/dev/sda1', ':/srv', '']) {
      const f = ['type=volume', 'src=wv', 'dst=/x', `volume-opt=type=${type}`];
      if (device !== undefined) f.push(`volume-opt=device=${device}`);
      out.push(['--mount', f.join(',')]);
    }
  }
  for (const fields of [
    'dst=/x,volume-opt=o=size=1m',
    'dst=/x,volume-opt=device=tmpfs',
    'dst=/x,volume-opt=type=tmpfs,volume-opt=Type=tmpfs',
    'dst=/x,volume-opt=type=tmpfs,volume-opt=type=tmpfs',
    'dst=/x,volume-opt=type=nfs,volume-opt=type=tmpfs',
    'dst=/x,volume-opt=type=tmpfs,volume-opt=size=1m',
    'dst=/x,volume-opt=type=tmpfs,volume-opt=O=size=1m',
    'dst=/x,volume-opt=type=tmpfs,volume-opt=o=',
    'type=volume,src=wv,dst=/x,volume-opt=o=bind,volume-opt=device=/etc',
    'type=volume,src=wv,dst=/x,volume-opt=O=RBind,volume-opt=device=/etc',
    'type=volume,src=wv,dst=/x,volume-opt=type=none,volume-opt=device=/srv',
    'type=volume,src=wv,dst=/x,"volume-opt=o=ro,bind",volume-opt=device=/srv',
    'type=volume,src=wv,dst=/x,volume-opt=device=/srv/bind',
    'Type=Volume,dst=/x,volume-opt=type=nfs',
    'type=volume,dst=/x,volume-driver=local,volume-opt=type=nfs',
    'type=volume,dst=/x,volume-driver=nfs,volume-opt=type=nfs',
    'type=volume,dst=/x,volume-driver=Local',
    'type=volume,dst=/x,Volume-Driver=convoy',
    'type=volume,src=wv,dst=/x,volume-nocopy,volume-subpath=a',
    'type=tmpfs,dst=/x,tmpfs-size=1m,tmpfs-mode=1777',
  ]) {
    out.push(['--mount', fields]);
  }
  for (const d of ['local', 'LOCAL', 'convoy', 'local ']) out.push(['--volume-driver', d, '-v', 'wv:/x']);
  // (`-00` and `-0x0` are zero, and gated all the same: shell-rules.ts NEGATIVE)
  for (const n of ['-1', '-1000', '0', '1', '1000', '-0', '+5', '-0x10', '-010', '-0b1', '0x10', '010']) {
    out.push(['--oom-score-adj', n]);
    out.push([`--pids-limit=${n}`]);
  }
  for (const b of ['--oom-kill-disable', '--oom-kill-disable=true', '--oom-kill-disable=false', '--oom-kill-disable=0']) out.push([b]);
  for (const o of [
    'no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true', 'no-new-privileges:false', 'label=disable',
    'label:disable', 'label=user:u', 'label=role:r', 'label=type:t', 'label=level:s0:c1', 'label:type:t',
    'apparmor=unconfined', 'seccomp=unconfined', 'systempaths=unconfined', 'writable-cgroups=true',
  ]) {
    out.push(['--security-opt', o]);
  }
  return out;
}

t.test('word by word: the classifier names exactly the kinds the proxy finds in the CLI body, and the wrapper agrees', async (t) => {
  const dir = tmpDir('words');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const daemon = await fakeCreateDaemon(path.join(dir, 'd.sock'));
  const bodies = daemon.creates;
  t.teardown(() => daemon.close());

  let judged = 0;
  for (const flags of variants()) {
    const argv = ['create', ...flags, IMG];
    const c = classifyShell(argv);
    const line = classificationLine(c);
    for (const shell of SHELLS) {
      const r = await runWrapper(shell, argv, baseEnv({ WINGMAN_WRAPPER_CLASSIFY_ONLY: '1' }));
      t.equal(r.stdout, `${line}\n`, `${shell.name}: docker ${argv.join(' ')}`);
    }
    const before = bodies.length;
    const r = await run('docker', argv, { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: daemon.url }, undefined, 60_000);
    if (r.code !== 0) {
      // the CLI refuses it before any request (a malformed option): nothing reaches the proxy
      t.equal(bodies.length, before, `docker ${argv.join(' ')} was refused by the CLI and sent nothing`);
      continue;
    }
    judged++;
    const parsed = parseGoJson(Buffer.from(bodies.at(-1) ?? '{}'));
    const found = findEscalations('container-create', parsed, normalizeTarget('/containers/create'), { allowlist: [], extraSensitive: [] }, {});
    const kinds = [...new Set(found.map((e) => e.kind))].sort();
    t.same([...c.escalations].sort(), kinds, `docker ${argv.join(' ')}: the proxy finds ${kinds.join(',') || 'nothing'}`);
  }
  t.ok(judged > 150, `${judged} command lines judged by the proxy`);
});
