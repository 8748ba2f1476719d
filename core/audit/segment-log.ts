// A local append-only log of JSON lines. A line is in the kernel's page cache once it is written, and survives the
// process being killed (SIGKILL included; a machine crash is what fsync would add, at a price per call we do not pay).
// Lines queued with enqueue() are written together, once per turn of the event loop (one write for every call that
// turn, not one per line: a call's intent is then awaited, not written on its own); append() writes at once. A reader
// tails the log from the oldest segment on; a segment is deleted once it is read to its end, a newer one is being
// written, and the reader says nothing in it is still needed.
// The values this process writes are also kept in memory until the reader takes them, so the shipper neither reads
// back nor parses again what it already holds: a value must not be changed once it is queued. Past TAIL_MAX lines
// not taken (a store down for long), the memory copy is dropped and the reader goes back to the file, until it has
// caught up with the writer again.
import fs from 'node:fs';
import path from 'node:path';

const SEGMENT_BYTES = 4 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;
const TAIL_MAX = 20_000;
const EMPTY = Buffer.alloc(0);
const NL = 0x0a;

interface Segment {
  seq: number;
  file: string;
  /** bytes read so far */
  offset: number;
  /** a line cut off at the end of the last read (bytes: a cut can fall inside a character) */
  rest: Buffer;
}

export interface LogLine<T> {
  seq: number;
  value: T;
}

export class SegmentLog<T> {
  private readonly segments: Segment[] = [];
  private fd: number;
  private seq: number;
  private bytes = 0;
  /** the first segment this process writes: those before it were left by an earlier run */
  readonly firstOwnSeq: number;
  /** this process's lines not read yet, as written (from `tailHead` on), while `tailed` */
  private tail: Array<{ seq: number; value: T; bytes: number }> = [];
  private tailHead = 0;
  /** whether `tail` holds every line of this process's segments past the reader's offsets */
  private tailed = true;
  private readonly chunk = Buffer.allocUnsafe(READ_CHUNK);
  /** lines queued for the next write, with who waits on each */
  private pending: Array<{ value: T; text: string; done?: (err?: Error) => void }> = [];
  private flushScheduled = false;
  /** the last write failed inside a line: the next one starts with a newline, so that only the torn line is lost */
  private torn = false;

  constructor(
    readonly dir: string,
    private readonly segmentBytes = SEGMENT_BYTES,
    private readonly tailMax = TAIL_MAX,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const found = fs
      .readdirSync(dir)
      .map((f) => /^(\d{10})\.jsonl$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of found) this.segments.push({ seq, file: this.fileOf(seq), offset: 0, rest: EMPTY });
    this.seq = (found.at(-1) ?? 0) + 1;
    this.firstOwnSeq = this.seq;
    this.fd = this.open(this.seq);
  }

  private fileOf(seq: number): string {
    return path.join(this.dir, `${String(seq).padStart(10, '0')}.jsonl`);
  }

  /** Open segment `seq` for appending and count it as the one being written. */
  private open(seq: number): number {
    const fd = fs.openSync(this.fileOf(seq), 'a', 0o600);
    this.segments.push({ seq, file: this.fileOf(seq), offset: 0, rest: EMPTY });
    this.bytes = 0;
    return fd;
  }

  /**
   * Queue one record for the next write, made once this turn of the event loop is done with (with every other line
   * queued in it). `done` is told once the line is written, or why it could not be (disk full, unwritable).
   */
  enqueue(value: T, done?: (err?: Error) => void): void {
    this.pending.push({ value, text: JSON.stringify(value), done });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Write one record now (after what is queued); throws when it cannot be written: the caller decides what then. */
  append(value: T): void {
    let failed: Error | undefined;
    this.pending.push({ value, text: JSON.stringify(value), done: (err) => (failed = err) });
    this.flush();
    if (failed) throw failed;
  }

  /** Write what is queued, in one go. */
  flush(): void {
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    const lead = this.torn ? '\n' : '';
    let text = lead;
    for (const p of group) text += p.text + '\n';
    const buf = Buffer.from(text);
    let done = 0;
    try {
      while (done < buf.length) done += fs.writeSync(this.fd, buf, done);
    } catch (err) {
      // What did reach the file is the file reader's (a torn line it skips): the memory copy stops here. The lines
      // written whole before the failure are written; the others are not.
      this.bytes += done;
      // (Nothing written: a line torn earlier is still open.)
      if (done > 0) this.torn = buf[done - 1] !== NL;
      this.untail();
      let end = lead.length;
      for (const p of group) {
        end += Buffer.byteLength(p.text) + 1;
        p.done?.(end <= done ? undefined : (err as Error));
      }
      this.rotateIfFull();
      return;
    }
    this.torn = false;
    this.bytes += buf.length;
    if (this.tailed) {
      if (this.tail.length - this.tailHead + group.length <= this.tailMax) {
        for (let i = 0; i < group.length; i++) {
          const bytes = Buffer.byteLength(group[i].text) + 1 + (i === 0 ? lead.length : 0);
          this.tail.push({ seq: this.seq, value: group[i].value, bytes });
        }
      } else this.untail();
    }
    this.rotateIfFull();
    for (const p of group) p.done?.();
  }

  private rotateIfFull(): void {
    if (this.bytes < this.segmentBytes) return;
    // The next segment is opened before this one is closed: one that cannot be opened leaves the log on this one
    // (tried again after the next write), never without a file to write to.
    let fd: number;
    try {
      fd = this.open(this.seq + 1);
    } catch {
      return;
    }
    fs.closeSync(this.fd);
    this.seq += 1;
    this.fd = fd;
    this.torn = false;
  }

  /** Up to `max` lines not read yet, oldest first. A torn last line of an earlier run's segment is skipped. */
  read(max = 1000): LogLine<T>[] {
    this.flush();
    const out: LogLine<T>[] = [];
    for (const seg of this.segments) {
      if (this.tailed && seg.seq >= this.firstOwnSeq) break;
      while (out.length < max) {
        const buf = this.chunk;
        let n: number;
        try {
          const fd = fs.openSync(seg.file, 'r');
          try {
            n = fs.readSync(fd, buf, 0, READ_CHUNK, seg.offset);
          } finally {
            fs.closeSync(fd);
          }
        } catch {
          n = 0;
        }
        if (n === 0) break;
        seg.offset += n;
        const got = buf.subarray(0, n);
        const end = got.lastIndexOf(NL);
        if (end === -1) {
          seg.rest = Buffer.concat([seg.rest, got]);
          continue;
        }
        // Only whole lines are decoded; what follows the last newline is kept as bytes for the next read.
        const text = (seg.rest.length ? Buffer.concat([seg.rest, got.subarray(0, end)]) : got.subarray(0, end)).toString('utf8');
        seg.rest = Buffer.from(got.subarray(end + 1));
        for (const l of text.split('\n')) {
          if (!l) continue;
          try {
            out.push({ seq: seg.seq, value: JSON.parse(l) as T });
          } catch {
            // A line torn by a crash mid-write: skip it rather than block the log forever.
          }
        }
      }
      if (out.length >= max) break;
    }
    if (this.tailed) this.readTail(out, max);
    else this.catchUp();
    return out;
  }

  /** This process's lines from memory, each segment's offset moved on as if they had been read from its file. */
  private readTail(out: LogLine<T>[], max: number): void {
    let seg: Segment | undefined;
    while (out.length < max && this.tailHead < this.tail.length) {
      const { seq, value, bytes } = this.tail[this.tailHead++];
      if (seg?.seq !== seq) seg = this.segments.find((s) => s.seq === seq);
      if (seg) seg.offset += bytes;
      out.push({ seq, value });
    }
    if (this.tailHead === this.tail.length) {
      this.tail = [];
      this.tailHead = 0;
    } else if (this.tailHead > 4096) {
      this.tail = this.tail.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  private untail(): void {
    this.tailed = false;
    this.tail = [];
    this.tailHead = 0;
  }

  /** After an overflow: once the file reader is where the writer is, lines are kept in memory again. */
  private catchUp(): void {
    const last = this.segments.at(-1);
    if (last && last.seq === this.seq && last.offset === this.bytes && last.rest.length === 0) this.tailed = true;
  }

  /** Whether every segment an earlier run left has been read to its end. */
  earlierRunsRead(): boolean {
    for (const seg of this.segments) {
      if (seg.seq >= this.firstOwnSeq) continue;
      try {
        if (seg.offset < fs.statSync(seg.file).size) return false;
      } catch {
        /* gone */
      }
    }
    return true;
  }

  /** Bytes written but not read yet (what a reader is behind by). */
  backlogBytes(): number {
    let n = 0;
    for (const seg of this.segments) {
      try {
        n += Math.max(0, fs.statSync(seg.file).size - seg.offset);
      } catch {
        /* gone */
      }
    }
    return n;
  }

  /** Delete every segment that is read to its end, not the one being written, and not in `needed`. */
  release(needed: (seq: number) => boolean): void {
    for (const seg of [...this.segments]) {
      if (seg.seq === this.seq || needed(seg.seq)) continue;
      let size = 0;
      try {
        size = fs.statSync(seg.file).size;
      } catch {
        /* already gone */
      }
      if (seg.offset < size) continue;
      fs.rmSync(seg.file, { force: true });
      this.segments.splice(this.segments.indexOf(seg), 1);
    }
  }

  close(): void {
    try {
      this.flush();
    } catch {
      /* told to whoever waits on those lines */
    }
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
  }
}
