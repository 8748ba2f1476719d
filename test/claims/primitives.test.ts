// The small readers the verifiers stand on: the streaming tar reader (what the archive endpoint sends), the
// /proc/net/tcp parser and the time-limited regex.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import t from 'tap';
import { listeningSockets } from '../../core/claims/proc-net-tcp.js';
import { regexTest } from '../../core/claims/regex-test.js';
import { readFirstTarFile } from '../../core/claims/tar-first-file.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-tar-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function tarOf(args: string[], opts: string[] = []): Buffer {
  return execFileSync('tar', ['-c', ...opts, '-C', dir, ...args]);
}

/** Feed a buffer in small chunks, as a socket would. */
function chunked(buf: Buffer, size = 333): Readable {
  const s = new PassThrough();
  // Fed in the background: the caller reads the stream while it fills.
  void (async () => {
    for (let i = 0; i < buf.length; i += size) {
      s.write(buf.subarray(i, i + size));
      await new Promise((r) => setImmediate(r));
    }
    s.end();
  })();
  return s;
}

async function read(buf: Buffer) {
  const hash = createHash('sha256');
  let n = 0;
  const entry = await readFirstTarFile(chunked(buf), (c) => {
    hash.update(c);
    n += c.length;
  });
  return { entry, sha: hash.digest('hex'), n };
}

t.test('tar: regular files of several sizes, long names (pax and GNU), directories, symlinks', async (t) => {
  for (const size of [0, 1, 511, 512, 513, 70_000]) {
    const data = Buffer.alloc(size, 7);
    fs.writeFileSync(path.join(dir, `f${size}`), data);
    const r = await read(tarOf([`f${size}`]));
    t.match(r.entry, { type: 'file', size, name: `f${size}` });
    t.equal(r.sha, createHash('sha256').update(data).digest('hex'), `content of ${size} bytes`);
  }
  const long = 'n'.repeat(150) + '.txt';
  fs.writeFileSync(path.join(dir, long), 'long');
  for (const format of ['--format=pax', '--format=gnu']) {
    const r = await read(tarOf([long], [format]));
    t.match(r.entry, { type: 'file', name: long, size: 4 }, `long name ${format}`);
  }
  fs.mkdirSync(path.join(dir, 'd'));
  t.match((await read(tarOf(['d']))).entry, { type: 'directory' });
  fs.symlinkSync('f1', path.join(dir, 'ln'));
  t.match((await read(tarOf(['ln']))).entry, { type: 'symlink', linkName: 'f1' });
});

t.test('tar: truncated or foreign streams are errors, not verdicts', async (t) => {
  const whole = tarOf(['f70000']);
  await t.rejects(read(whole.subarray(0, 5_000)), /ended early/);
  await t.rejects(read(Buffer.from('{"message":"Could not find the file"}')), /ended early|not a tar/);
  await t.rejects(read(Buffer.alloc(1024)), /empty tar/);
  await t.rejects(read(Buffer.concat([Buffer.from('x'.repeat(257)), Buffer.alloc(255)])), /not a tar/);
});

t.test('/proc/net/tcp and tcp6: LISTEN sockets only', async (t) => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0',
    '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0',
    '   2: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0',
    '  sl  local_address                         remote_address                        st tx_queue rx_queue',
    '   0: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000',
    'garbage line',
  ].join('\n');
  t.same(listeningSockets(text), [
    { address: '127.0.0.1', port: 8080 },
    { address: '0.0.0.0', port: 22 },
    { address: '0:0:0:0:0:0:0:1', port: 3000 },
  ]);
  t.same(listeningSockets(''), []);
});

t.test('regex with a time limit', async (t) => {
  t.same(regexTest('^ver=\\d+$', 'a\nver=12\nb'), { matched: true }, 'multiline');
  t.same(regexTest('^nope$', 'a\nb'), { matched: false });
  t.same(regexTest('^(a+)+$', 'a'.repeat(40) + '!', 100), { timedOut: true }, 'catastrophic pattern stopped');
  t.same(regexTest('x', 'x'), { matched: true }, 'usable again after a timeout');
});
