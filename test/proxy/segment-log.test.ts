// The audit's local log (core/audit/segment-log.ts): what the reader gets is what the files hold, whether this
// process's lines come from memory or (after the memory copy overflowed) from the files, across segment rotations,
// and with a line cut by a read inside a multi-byte character.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SegmentLog } from '../../core/audit/segment-log.js';

interface Rec {
  n: number;
  path: string;
}

const tmpDir = (t: Test): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-seglog-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** Every line of every segment file in the directory, parsed, in order. */
function onDisk(dir: string): Rec[] {
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((f) =>
      fs
        .readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Rec),
    );
}

const rec = (n: number): Rec => ({ n, path: `/containers/é-${n}/${'ü'.repeat(n % 7)}` });

function readAll(log: SegmentLog<Rec>, max: number): Rec[] {
  const out: Rec[] = [];
  for (;;) {
    const got = log.read(max);
    if (got.length === 0) return out;
    out.push(...got.map((l) => l.value));
  }
}

t.test('lines read back in order from memory, with offsets as if read from the files', (t) => {
  const dir = tmpDir(t);
  const log = new SegmentLog<Rec>(dir, 1024);
  const written: Rec[] = [];
  const read: Rec[] = [];
  for (let i = 0; i < 200; i++) {
    written.push(rec(i));
    log.append(rec(i));
    if (i % 37 === 0) read.push(...readAll(log, 10));
  }
  read.push(...readAll(log, 16));
  t.same(read, written, 'every line, once, in order');
  t.same(onDisk(dir), written, 'the files hold every line, across rotations');
  t.ok(fs.readdirSync(dir).length > 5, 'several segments were written');
  t.equal(log.backlogBytes(), 0, 'every byte counted as read');
  log.release(() => false);
  t.equal(fs.readdirSync(dir).length, 1, 'read segments released; the one being written stays');
  log.close();
  t.end();
});

t.test('past the memory bound the reader goes back to the files, then to memory once caught up', (t) => {
  const dir = tmpDir(t);
  const log = new SegmentLog<Rec>(dir, 4096, 50);
  const got: Rec[] = [];
  let n = 0;
  // 130 lines unread: the memory copy overflows at 50 and is dropped.
  for (; n < 130; n++) log.append(rec(n));
  got.push(...readAll(log, 20));
  t.same(got.map((r) => r.n), Array.from({ length: 130 }, (_, i) => i), 'all of them, from the files');
  // Caught up: the next lines come from memory again (the files are not needed: they are emptied here).
  for (; n < 140; n++) log.append(rec(n));
  for (const f of fs.readdirSync(dir)) fs.truncateSync(path.join(dir, f), 0);
  got.push(...readAll(log, 20));
  t.same(got.map((r) => r.n), Array.from({ length: 140 }, (_, i) => i), 'the last ten from memory');
  log.close();
  t.end();
});

t.test("an earlier run's segments (a torn last line, a read cut inside a character) come first", (t) => {
  const dir = tmpDir(t);
  // An earlier run: long lines of two-byte characters, so 256 KiB reads cut inside one; then a torn line.
  const long = (n: number): Rec => ({ n, path: 'é'.repeat(5000 + n) });
  const earlier = Array.from({ length: 120 }, (_, i) => long(i));
  fs.writeFileSync(path.join(dir, '0000000001.jsonl'), earlier.map((r) => JSON.stringify(r) + '\n').join('') + '{"n":999,"pa');
  const log = new SegmentLog<Rec>(dir);
  log.append(rec(1000));
  const got = readAll(log, 1000);
  t.same(got, [...earlier, rec(1000)], 'every whole line, characters intact, the torn one skipped');
  t.ok(log.earlierRunsRead());
  log.close();
  t.end();
});

t.test('a write that fails leaves the reader on the files, which skip the torn line', (t) => {
  const dir = tmpDir(t);
  const log = new SegmentLog<Rec>(dir);
  log.append(rec(1));
  const realWrite = fs.writeSync;
  let calls = 0;
  // The second write of the line fails after the first wrote part of it (disk full mid-line).
  (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, off: number) => {
    calls++;
    if (calls === 1) return realWrite(fd, buf, off, 10);
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  };
  try {
    t.throws(() => log.append(rec(2)), { code: 'ENOSPC' });
  } finally {
    (fs as { writeSync: unknown }).writeSync = realWrite;
  }
  log.append(rec(3));
  log.append(rec(4));
  const got = readAll(log, 100).map((r) => r.n);
  // The torn bytes and the line after them read as one bad line (skipped); nothing else is lost.
  t.same(got, [1, 4]);
  log.append(rec(5));
  t.same(readAll(log, 100).map((r) => r.n), [5], 'and after that, as before');
  log.close();
  t.end();
});
