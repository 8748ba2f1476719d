// The wrapper's classification table, under dash and busybox sh, against the expected decision for every example,
// and against the control API's TypeScript classifier (the one that scopes grants): both must read every command
// line the same way. Read-only commands must exec the real docker with the same argv and no call to Wingman.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { classificationLine, classifyShell } from '../../core/policy/shell-classify.js';
import { GATED, READ_ONLY } from './examples.js';
import { baseEnv, fakeDocker, recordingServer, runWrapper, SHELLS, tmpDir, WRAPPER } from './helpers.js';

const ALL = [...GATED, ...READ_ONLY];

t.test('the TypeScript classifier gives the expected decision for every example', async (t) => {
  for (const ex of ALL) t.equal(classificationLine(classifyShell(ex.argv)), ex.expect, `docker ${ex.argv.join(' ')}`);
});

for (const shell of SHELLS) {
  t.test(`${shell.name}: the wrapper classifies every example like the table says`, async (t) => {
    const env = baseEnv({ WINGMAN_WRAPPER_CLASSIFY_ONLY: '1' });
    for (const ex of ALL) {
      const r = await runWrapper(shell, ex.argv, env);
      t.equal(r.code, 0, `exit 0: docker ${ex.argv.join(' ')}`);
      t.equal(r.stdout, `${ex.expect}\n`, `docker ${ex.argv.join(' ')}`);
      t.equal(r.stderr, '', 'nothing on stderr');
    }
  });
}

t.test('classify mode needs neither a real docker nor Wingman', async (t) => {
  const r = await runWrapper(SHELLS[0], ['rm', '-f', 'web'], { PATH: '/usr/bin:/bin', WINGMAN_WRAPPER_CLASSIFY_ONLY: '1' });
  t.equal(r.stdout, 'gate rm ContainerDelete -\n');
});

t.test('read-only commands exec the real docker with the same argv and never call Wingman', async (t) => {
  const dir = tmpDir('ro');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = fakeDocker(dir);
  const control = await recordingServer();
  t.teardown(() => control.close());
  let expected = 0;
  for (const shell of SHELLS) {
    for (const ex of READ_ONLY) {
      const r = await runWrapper(
        shell,
        ex.argv,
        baseEnv({ WINGMAN_REAL_DOCKER: fake.path, WINGMAN_CONTROL_URL: control.url, WINGMAN_WORKER_TOKEN: 'wgmtest-worker-token-1', HOME: dir }),
      );
      t.equal(r.code, 0, `${shell.name}: docker ${ex.argv.join(' ')}: ${r.stderr}`);
      expected++;
      const calls = fake.calls();
      t.equal(calls.length, expected, 'the real docker ran once');
      t.same(calls.at(-1)!.argv, ex.argv, 'with the same argv');
      t.equal(calls.at(-1)!.dockerConfig, '', 'and no temporary DOCKER_CONFIG');
    }
  }
  t.equal(control.requests.length, 0, 'Wingman was never called');
});

t.test('exit codes of the real docker come through for read-only commands', async (t) => {
  const dir = tmpDir('rc');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = fakeDocker(dir);
  for (const shell of SHELLS) {
    const r = await runWrapper(shell, ['ps'], baseEnv({ WINGMAN_REAL_DOCKER: fake.path, FAKE_DOCKER_EXIT: '7' }));
    t.equal(r.code, 7, shell.name);
  }
});

t.test('gated commands without Wingman configured refuse and run nothing (fail closed)', async (t) => {
  const dir = tmpDir('nocfg');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = fakeDocker(dir);
  for (const shell of SHELLS) {
    const halfConfigured: Record<string, string>[] = [{}, { WINGMAN_CONTROL_URL: 'http://127.0.0.1:9' }, { WINGMAN_WORKER_TOKEN: 'wgmtest-worker-token-1' }];
    for (const env of halfConfigured) {
      const r = await runWrapper(shell, ['rm', '-f', 'web'], baseEnv({ WINGMAN_REAL_DOCKER: fake.path, ...env }));
      t.equal(r.code, 1, shell.name);
      t.match(r.stderr, /wingman: WINGMAN_CONTROL_URL and WINGMAN_WORKER_TOKEN must be set: `docker rm -f web` needs approval and was not run/);
    }
  }
  t.equal(fake.calls().length, 0, 'the real docker never ran');
});

t.test('finding the real docker on PATH: skips itself (also through a symlink) and copies of the wrapper', async (t) => {
  const dir = tmpDir('path');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const wrapperDir = path.join(dir, 'wingman');
  const linkDir = path.join(dir, 'link');
  const copyDir = path.join(dir, 'copy');
  const realDir = path.join(dir, 'real');
  for (const d of [wrapperDir, linkDir, copyDir, realDir]) fs.mkdirSync(d);
  fs.copyFileSync(WRAPPER, path.join(wrapperDir, 'docker'));
  fs.chmodSync(path.join(wrapperDir, 'docker'), 0o755);
  fs.symlinkSync(path.join(wrapperDir, 'docker'), path.join(linkDir, 'docker'));
  fs.copyFileSync(WRAPPER, path.join(copyDir, 'docker'));
  fs.chmodSync(path.join(copyDir, 'docker'), 0o755);
  const fake = fakeDocker(realDir);
  // the tools the wrapper uses, without the machine's own docker
  const toolsDir = path.join(dir, 'tools');
  fs.mkdirSync(toolsDir);
  for (const tool of ['readlink', 'realpath', 'dirname', 'head', 'grep']) fs.symlinkSync(`/usr/bin/${tool}`, path.join(toolsDir, tool));
  const script = path.join(wrapperDir, 'docker');
  for (const shell of SHELLS) {
    const PATH = [wrapperDir, linkDir, copyDir, realDir, '/usr/bin', '/bin'].join(':');
    const r = await runWrapper(shell, ['ps'], { PATH, HOME: dir }, { script });
    t.equal(r.code, 0, r.stderr);
    t.same(fake.calls().at(-1)!.argv, ['ps'], `${shell.name}: the first docker on PATH that is not the wrapper ran`);

    // invoked through the symlink: still recognises itself
    const r2 = await runWrapper(shell, ['images'], { PATH, HOME: dir }, { script: path.join(linkDir, 'docker') });
    t.equal(r2.code, 0, r2.stderr);
    t.same(fake.calls().at(-1)!.argv, ['images']);

    // nothing but the wrapper on PATH: a clear error, not a loop
    const r3 = await runWrapper(shell, ['ps'], { PATH: [wrapperDir, linkDir, copyDir, toolsDir].join(':'), HOME: dir }, { script });
    t.not(r3.code, 0);
    t.match(r3.stderr, /wingman: no real docker found on PATH besides this wrapper/);

    // WINGMAN_REAL_DOCKER wins, but never when it is the wrapper
    const r4 = await runWrapper(shell, ['ps'], { PATH, HOME: dir, WINGMAN_REAL_DOCKER: path.join(linkDir, 'docker') }, { script });
    t.not(r4.code, 0);
    t.match(r4.stderr, /WINGMAN_REAL_DOCKER=.* is this wrapper, not the real docker/);
    const r5 = await runWrapper(shell, ['ps'], { PATH, HOME: dir, WINGMAN_REAL_DOCKER: path.join(dir, 'missing') }, { script });
    t.not(r5.code, 0);
    t.match(r5.stderr, /is not an executable file/);
  }
});
