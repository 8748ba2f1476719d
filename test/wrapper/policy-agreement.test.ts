// The shell table checked against the Docker policy by what the real docker CLI actually sends:
// (A) for every run/create (and update) example, the request body the CLI builds is judged by the proxy's
//     escalation finder, and the kinds it finds are exactly the kinds the wrapper classified from the command line;
// (B) runnable gated and read-only commands go through a SHADOW-mode proxy to the real engine: every call the
//     policy would hold or refuse must be one the command's gated row names (so its grant covers it), and
//     read-only commands must make no such call.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { findEscalations } from '../../core/policy/escalation.js';
import { parseGoJson } from '../../core/policy/go-json.js';
import { normalizeTarget } from '../../core/policy/normalize.js';
import { classifyShell } from '../../core/policy/shell-classify.js';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { run, startWingman, type Wingman } from '../helpers/wingman.js';
import { GATED, READ_ONLY } from './examples.js';
import { fakeCreateDaemon, tmpDir } from './helpers.js';

/** The escalation kinds the proxy finds in a create (or update) body (no bind allowlist, no host facts). */
function escalationKindsFor(body: string, kind: 'container-create' | 'container-update' = 'container-create'): string[] {
  const parsed = parseGoJson(Buffer.from(body));
  const found = findEscalations(kind, parsed, normalizeTarget(kind === 'container-create' ? '/containers/create' : '/containers/web/update'), { allowlist: [], extraSensitive: [] }, {});
  return [...new Set(found.map((e) => e.kind))];
}

t.test('(A) run/create and update: the kinds the proxy finds in the CLI request body are the kinds the wrapper names', async (t) => {
  const dir = tmpDir('esc');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const daemon = await fakeCreateDaemon(path.join(dir, 'd.sock'));
  const { creates: bodies, updates } = daemon;
  t.teardown(() => daemon.close());

  const examples = [...GATED, ...READ_ONLY].filter((e) => classifyShell(e.argv).row?.id === 'run');
  t.ok(examples.length > 30, 'every run/create example');
  for (const ex of examples) {
    const c = classifyShell(ex.argv);
    // `create` takes the flags of `run` but -d/--detach, and stops after the request (no attach/start against the fake)
    const at = ex.argv.findIndex((a) => a === 'run' || a === 'create');
    const noDetach = (a: string) => (/^-[dit]+$/.test(a) ? a.replace('d', '') : /^--detach(=|$)/.test(a) ? '-' : a);
    const argv = [...ex.argv.slice(0, at), 'create', ...ex.argv.slice(at + 1).map(noDetach).filter((a) => a !== '-')];
    const before = bodies.length;
    const r = await run('docker', argv, { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: daemon.url }, undefined, 60_000);
    t.equal(r.code, 0, `docker ${argv.join(' ')}: ${r.stderr}`);
    t.equal(bodies.length, before + 1, 'one create request');
    const kinds = escalationKindsFor(bodies.at(-1) ?? '{}');
    t.same(kinds.sort(), [...c.escalations].sort(), `docker ${ex.argv.join(' ')}: the proxy finds ${kinds.join(',') || 'nothing'}`);
  }

  // update: the resources of a running container (PidsLimit below 0 lifts its process limit)
  const updateExamples = GATED.filter((e) => classifyShell(e.argv).id === 'update');
  t.ok(updateExamples.length >= 4, 'every update example');
  for (const ex of updateExamples) {
    const c = classifyShell(ex.argv);
    for (const target of c.targets) {
      const argv = ['update', ...ex.argv.slice(ex.argv.findIndex((a) => a === 'update') + 1).filter((a) => !c.targets.includes(a)), target];
      const before = updates.length;
      const r = await run('docker', argv, { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: daemon.url }, undefined, 60_000);
      t.equal(r.code, 0, `docker ${argv.join(' ')}: ${r.stderr}`);
      t.equal(updates.length, before + 1, 'one update request');
      const kinds = escalationKindsFor(updates.at(-1) ?? '{}', 'container-update');
      t.same(kinds.sort(), [...c.escalations].sort(), `docker ${ex.argv.join(' ')}: the proxy finds ${kinds.join(',') || 'nothing'}`);
    }
  }
});

let w: Wingman;
const containers: string[] = [];
const volumes: string[] = [];
const networks: string[] = [];
const images: string[] = [];
const label = `wgmtest.agree=${testName('agree')}`;

interface Case {
  argv: string[];
  /** run after, e.g. to undo a pause */
  after?: string[];
}

t.test('(B) through a shadow-mode proxy, with the real engine', async (t) => {
  w = await startWingman({ env: { WINGMAN_POLICY_MODE: 'shadow' } });
  const dir = tmpDir('agree');
  t.teardown(async () => {
    for (const c of containers) await docker(['rm', '-f', c]);
    for (const v of volumes) await docker(['volume', 'rm', '-f', v]);
    for (const n of networks) await docker(['network', 'rm', n]);
    for (const i of images) await docker(['rmi', '-f', i]);
    await w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // A worker acts on what it made: the objects a command works on are made through w1's own socket.
  const asW1 = async (args: string[]) => {
    const r = await w.dockerAs('w1', args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} through w1 failed: ${r.stderr}`);
  };
  // create + start rather than `run -d`: run's wait call can end after the CLI does, and be counted as the next command's
  const newContainer = async (running = true, cmd: string[] = ['sleep', '600'], opts: string[] = []) => {
    const n = testName('agree');
    containers.push(n);
    await asW1(['create', ...opts, '--name', n, '--label', label, TEST_IMAGE, ...cmd]);
    if (running) await asW1(['start', n]);
    return n;
  };
  const newVolume = async () => {
    const v = testName('agree');
    volumes.push(v);
    await asW1(['volume', 'create', '--label', label, v]);
    return v;
  };
  const newNetwork = async () => {
    const n = testName('agree');
    networks.push(n);
    await asW1(['network', 'create', '--label', label, n]);
    return n;
  };
  const newTag = async () => {
    const tag = `${testName('agree')}:1`;
    images.push(tag);
    await asW1(['tag', TEST_IMAGE, tag]);
    return tag;
  };
  fs.writeFileSync(path.join(dir, 'in.txt'), 'hello\n');
  fs.mkdirSync(path.join(dir, 'ctx'));
  fs.writeFileSync(path.join(dir, 'ctx', 'Dockerfile'), `FROM ${TEST_IMAGE}\nLABEL ${label.replace('=', '="')}"\n`);

  const gated: Array<() => Promise<Case>> = [
    async () => ({ argv: ['rm', '-f', await newContainer()] }),
    async () => ({ argv: ['container', 'rm', '-fv', await newContainer()] }),
    async () => ({ argv: ['rmi', await newTag()] }),
    async () => ({ argv: ['image', 'rm', await newTag()] }),
    async () => ({ argv: ['kill', '-s', 'KILL', await newContainer()] }),
    async () => ({ argv: ['stop', '-t', '1', await newContainer()] }),
    async () => ({ argv: ['restart', '-t', '1', await newContainer()] }),
    async () => {
      const c = await newContainer();
      return { argv: ['pause', c], after: ['unpause', c] };
    },
    async () => {
      const c = await newContainer();
      const to = testName('agree');
      containers.push(to);
      return { argv: ['rename', c, to] };
    },
    async () => ({ argv: ['update', '--restart', 'on-failure', await newContainer()] }),
    async () => ({ argv: ['container', 'prune', '-f', '--filter', `label=${label}`] }),
    async () => ({ argv: ['image', 'prune', '-f', '--filter', `label=${label}`] }),
    async () => ({ argv: ['volume', 'prune', '-f', '--filter', `label=${label}`] }),
    async () => ({ argv: ['network', 'prune', '-f', '--filter', `label=${label}`] }),
    async () => ({ argv: ['volume', 'rm', await newVolume()] }),
    async () => ({ argv: ['network', 'rm', await newNetwork()] }),
    async () => ({ argv: ['exec', await newContainer(), 'true'] }),
    async () => ({ argv: ['cp', `${await newContainer()}:/etc/passwd`, path.join(dir, `out-${containers.length}`)] }),
    async () => ({ argv: ['cp', path.join(dir, 'in.txt'), `${await newContainer()}:/tmp/in.txt`] }),
    async () => ({ argv: ['export', '-o', path.join(dir, `export-${containers.length}.tar`), await newContainer(false)] }),
    async () => {
      const tag = `${testName('agree')}:commit`;
      images.push(tag);
      return { argv: ['commit', await newContainer(), tag] };
    },
    async () => {
      const tag = await newTag();
      const tar = path.join(dir, `load-${images.length}.tar`);
      await asW1(['save', '-o', tar, tag]);
      return { argv: ['load', '-q', '-i', tar] };
    },
    // stdin attached: the proxy decides the attach as ContainerExec
    async () => {
      const n = testName('agree');
      containers.push(n);
      return { argv: ['run', '-i', '--name', n, '--label', label, TEST_IMAGE, 'true'] };
    },
    async () => ({ argv: ['start', '-ai', await newContainer(false, ['true'], ['-i'])] }),
    // a running container with an open stdin (`run -d -i`) that ends by itself: attach returns when it exits
    async () => ({ argv: ['attach', await newContainer(true, ['sleep', '4'], ['-i'])] }),
    async () => ({ argv: ['update', '--pids-limit', '-1', await newContainer()] }),
    ...[
      ['--privileged'],
      ['-v', '/:/host'],
      ['--mount', `type=bind,source=${dir},target=/x`],
      ['--pid', 'host'],
      ['--network', 'host'],
      ['--cap-add', 'SYS_ADMIN'],
      ['--device', '/dev/null'],
      ['--security-opt', 'seccomp=unconfined'],
      ['--security-opt', 'label=type:svirt_apache_t'],
      ['--sysctl', 'net.ipv4.ip_forward=1'],
      ['--tmpfs', '/x:size=1m,dev'],
      ['--mount', 'type=volume,dst=/x,volume-opt=type=overlay'],
      ['--oom-score-adj', '-500'],
      ['--pids-limit', '-1'],
    ].map((flags) => async () => {
      const n = testName('agree');
      containers.push(n);
      return { argv: ['create', '--name', n, '--label', label, ...flags, TEST_IMAGE, 'true'] };
    }),
  ];
  const readOnly: Array<() => Promise<Case>> = [
    async () => ({ argv: ['ps'] }),
    async () => ({ argv: ['ps', '-a', '--format', '{{.Names}}'] }),
    async () => ({ argv: ['logs', await newContainer()] }),
    async () => ({ argv: ['inspect', await newContainer()] }),
    async () => ({ argv: ['inspect', '-f', '{{.Id}}', TEST_IMAGE] }),
    async () => ({ argv: ['images'] }),
    async () => ({ argv: ['version'] }),
    async () => ({ argv: ['info'] }),
    async () => ({ argv: ['system', 'df'] }),
    async () => {
      const n = testName('agree');
      containers.push(n);
      return { argv: ['run', '--name', n, '--label', label, '--platform', 'linux/amd64', TEST_IMAGE, 'true'] };
    },
    async () => {
      const v = await newVolume();
      return { argv: ['run', '--rm', '--label', label, '-v', `${v}:/data`, TEST_IMAGE, 'true'] };
    },
    async () => {
      const n = testName('agree');
      containers.push(n);
      return { argv: ['create', '--name', n, '--label', label, TEST_IMAGE, 'true'] };
    },
    async () => {
      const tag = `${testName('agree')}:1`;
      images.push(tag);
      return { argv: ['build', '-q', '-t', tag, path.join(dir, 'ctx')] };
    },
    async () => ({ argv: ['start', await newContainer(false)] }),
    async () => ({ argv: ['start', '-a', await newContainer(false, ['true'], ['-i'])] }),
    async () => ({ argv: ['attach', '--no-stdin', await newContainer(true, ['sleep', '3'], ['-i'])] }),
    async () => {
      const n = testName('agree');
      containers.push(n);
      return { argv: ['run', '-d', '-i', '--name', n, '--label', label, TEST_IMAGE, 'true'] };
    },
    async () => {
      const n = testName('agree');
      containers.push(n);
      return { argv: ['create', '-i', '--name', n, '--label', label, '--tmpfs', '/x:size=1m,noexec', '--pids-limit', '100', TEST_IMAGE, 'true'] };
    },
    async () => {
      const n = await newNetwork();
      const c = await newContainer();
      await asW1(['network', 'connect', n, c]);
      return { argv: ['network', 'disconnect', n, c] };
    },
    async () => {
      const c = await newContainer();
      await dockerOk(['pause', c]);
      return { argv: ['unpause', c] };
    },
    async () => ({ argv: ['stats', '--no-stream', await newContainer()] }),
    async () => ({ argv: ['top', await newContainer()] }),
    async () => {
      const c = await newContainer(false);
      return { argv: ['wait', c] };
    },
    async () => ({ argv: ['tag', TEST_IMAGE, await Promise.resolve(`${testName('agree')}:2`).then((x) => (images.push(x), x))] }),
    async () => ({ argv: ['volume', 'ls'] }),
    async () => ({ argv: ['network', 'ls'] }),
    async () => ({ argv: ['events', '--since', '1s', '--until', '0s'] }),
  ];

  const auditRows = async () => {
    await w.proxy.audit.flush();
    const { rows } = await w.db.query<{ id: string; rule: string; would: string | null; decision: string; reason: string | null }>(
      `SELECT id, rule, would, decision, reason FROM docker_audit WHERE worker = 'w1'`,
    );
    // The audit names the route's rule (and keeps no query). An attach is allowed unless it carries stdin, which
    // is decided, and spends a grant, as ContainerExec (core/policy/decide.ts effectiveRule): a held attach is one.
    for (const r of rows) {
      if (/^ContainerAttach(Websocket)?$/.test(r.rule) && r.would !== null) r.rule = 'ContainerExec';
    }
    return rows;
  };
  const seen = new Set((await auditRows()).map((r) => r.id));
  const callsOf = async () => {
    const fresh = (await auditRows()).filter((r) => !seen.has(r.id));
    for (const r of fresh) seen.add(r.id);
    return fresh;
  };

  for (const make of gated) {
    const k = await make();
    await callsOf(); // the setup's own calls (through w1's socket) are not the command's
    const c = classifyShell(k.argv);
    t.equal(c.decision, 'gate', `docker ${k.argv.join(' ')} is gated`);
    await w.dockerAs('w1', k.argv, { env: { DOCKER_BUILDKIT: '0' } });
    if (k.after) await dockerOk(k.after);
    const calls = await callsOf();
    const held = calls.filter((r) => r.would === 'approve' || r.would === 'deny');
    t.ok(held.length > 0, `docker ${k.argv.join(' ')}: the proxy would hold or refuse a call (${calls.map((r) => r.rule).join(', ')})`);
    for (const r of held) t.ok(c.docker.includes(r.rule), `docker ${k.argv.join(' ')}: ${r.rule} (${r.would}) is covered by row ${c.id} [${c.docker.join(', ')}]`);
  }
  for (const make of readOnly) {
    const k = await make();
    await callsOf();
    const c = classifyShell(k.argv);
    t.equal(c.decision, 'pass', `docker ${k.argv.join(' ')} is read-only`);
    const r = await w.dockerAs('w1', k.argv, { env: { DOCKER_BUILDKIT: '0' } });
    t.equal(r.code, 0, `docker ${k.argv.join(' ')}: ${r.stderr}`);
    const calls = await callsOf();
    t.ok(calls.length > 0, 'it reached the proxy');
    for (const x of calls) t.equal(x.would, null, `docker ${k.argv.join(' ')}: ${x.rule} is allowed`);
    if (c.row) for (const x of calls) t.ok([...c.row.docker, 'SystemPing', 'SystemPingHead'].includes(x.rule), `docker ${k.argv.join(' ')}: ${x.rule} is named by row ${c.id}${x.reason ? ` (${x.reason})` : ''}`);
  }
});
