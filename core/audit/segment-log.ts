// A local append-only log of JSON lines, written synchronously: once append() returns, the line is in the kernel's
// page cache and survives the process being killed (SIGKILL included; a machine crash is what fsync would add, at
// a price per call we do not pay). A reader tails it from the oldest segment on; a segment is deleted once it is
// read to its end, a newer one is being written, and the reader says nothing in it is still needed.
import fs from 'node:fs';
import path from 'node:path';

const SEGMENT_BYTES = 4 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;

interface Segment {
  seq: number;
  file: string;
  /** bytes read so far */
  offset: number;
  /** a line cut off at the end of the last read */
  rest: string;
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

  constructor(
    readonly dir: string,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const found = fs
      .readdirSync(dir)
      .map((f) => /^(\d{10})\.jsonl$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of found) this.segments.push({ seq, file: this.fileOf(seq), offset: 0, rest: '' });
    this.seq = (found.at(-1) ?? 0) + 1;
    this.firstOwnSeq = this.seq;
    this.fd = this.open(this.seq);
  }

  private fileOf(seq: number): string {
    return path.join(this.dir, `${String(seq).padStart(10, '0')}.jsonl`);
  }

  private open(seq: number): number {
    const fd = fs.openSync(this.fileOf(seq), 'a', 0o600);
    this.segments.push({ seq, file: this.fileOf(seq), offset: 0, rest: '' });
    this.bytes = 0;
    return fd;
  }

  /** Append one record; throws when it cannot be written (disk full, unwritable): the caller decides what then. */
  append(value: T): void {
    const line = Buffer.from(JSON.stringify(value) + '\n');
    let done = 0;
    while (done < line.length) done += fs.writeSync(this.fd, line, done);
    this.bytes += line.length;
    if (this.bytes >= this.segmentBytes) {
      fs.closeSync(this.fd);
      this.seq += 1;
      this.fd = this.open(this.seq);
    }
  }

  /** Up to `max` lines not read yet, oldest first. A torn last line of an earlier run's segment is skipped. */
  read(max = 1000): LogLine<T>[] {
    const out: LogLine<T>[] = [];
    for (const seg of this.segments) {
      while (out.length < max) {
        const buf = Buffer.alloc(READ_CHUNK);
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
        const text = seg.rest + buf.subarray(0, n).toString('utf8');
        const lines = text.split('\n');
        seg.rest = lines.pop() ?? '';
        for (const l of lines) {
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
    return out;
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
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
  }
}
