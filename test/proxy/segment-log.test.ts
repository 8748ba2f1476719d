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

/**
 * The disk fills up: the next write puts `bytes` bytes in the file, every write after it fails with ENOSPC. Returns
 * what puts the real fs.writeSync back.
 */
function diskFullAfter(bytes: number): () => void {
  const realWrite = fs.writeSync;
  let calls = 0;
  (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, off: number) => {
    calls++;
    if (calls === 1) return realWrite(fd, buf, off, bytes);
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  };
  return () => {
    (fs as { writeSync: unknown }).writeSync = realWrite;
  };
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
  // The second write of the line fails after the first wrote part of it (disk full mid-line).
  const restore = diskFullAfter(10);
  try {
    t.throws(() => log.append(rec(2)), { code: 'ENOSPC' });
  } finally {
    restore();
  }
  log.append(rec(3));
  log.append(rec(4));
  const got = readAll(log, 100).map((r) => r.n);
  // The torn bytes are one bad line (skipped): the next write starts a line of its own, so nothing else is lost.
  t.same(got, [1, 3, 4]);
  log.append(rec(5));
  t.same(readAll(log, 100).map((r) => r.n), [5], 'and after that, as before');
  log.close();
  t.end();
});

t.test('lines queued in one turn of the event loop are written together, and each waiter is told after', async (t) => {
  const dir = tmpDir(t);
  const log = new SegmentLog<Rec>(dir, 1024);
  const realWrite = fs.writeSync;
  let writes = 0;
  (fs as { writeSync: unknown }).writeSync = (...args: Parameters<typeof fs.writeSync>) => {
    writes++;
    return (realWrite as (...a: unknown[]) => number)(...args);
  };
  const told: number[] = [];
  try {
    const all = Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve, reject) => log.enqueue(rec(i), (err) => (err ? reject(err) : (told.push(i), resolve())))));
    t.equal(writes, 0, 'nothing written while the turn runs');
    t.same(onDisk(dir), [], 'nor on disk');
    await Promise.all(all);
    t.equal(writes, 1, 'one write for the twenty lines');
    t.same(told, Array.from({ length: 20 }, (_, i) => i), 'each told, in order');
    t.same(onDisk(dir).map((r) => r.n), told, 'on disk when told');
  } finally {
    (fs as { writeSync: unknown }).writeSync = realWrite;
  }
  // A sync append goes after what is queued; a read takes what is queued too.
  log.enqueue(rec(20));
  log.append(rec(21));
  log.enqueue(rec(22));
  t.same(readAll(log, 7).map((r) => r.n), Array.from({ length: 23 }, (_, i) => i), 'every line, once, in order');
  t.equal(log.backlogBytes(), 0, 'every byte counted as read');
  log.close();
  t.end();
});

t.test('a group write that fails: the lines written whole are written, the others are refused, none is lost after', async (t) => {
  const dir = tmpDir(t);
  const log = new SegmentLog<Rec>(dir);
  const line = (n: number) => Buffer.byteLength(JSON.stringify(rec(n))) + 1;
  // Two whole lines and part of the third reach the file, then the disk is full.
  const restore = diskFullAfter(line(0) + line(1) + 5);
  const told = new Map<number, string>();
  try {
    const all = [0, 1, 2, 3].map(
      (i) => new Promise<void>((resolve) => log.enqueue(rec(i), (err) => (told.set(i, err ? (err as NodeJS.ErrnoException).code ?? 'error' : 'written'), resolve()))),
    );
    await Promise.all(all);
  } finally {
    restore();
  }
  t.same([...told], [[0, 'written'], [1, 'written'], [2, 'ENOSPC'], [3, 'ENOSPC']]);
  log.append(rec(4));
  t.same(readAll(log, 100).map((r) => r.n), [0, 1, 4], 'the written lines and the next one; the torn one skipped');
  log.close();
  t.end();
});

t.test('a torn line stays closed off across a write that wrote nothing', (t) => {
  const dir = tmpDir(t);
  const log = new SegmentLog<Rec>(dir);
  // Part of a line, then a failure; then a write that fails before writing anything.
  const restore = diskFullAfter(10);
  try {
    t.throws(() => log.append(rec(1)), { code: 'ENOSPC' });
    t.throws(() => log.append(rec(2)), { code: 'ENOSPC' });
  } finally {
    restore();
  }
  log.append(rec(3));
  t.same(readAll(log, 100).map((r) => r.n), [3], 'the line after them is whole');
  log.close();
  t.end();
});
