// A durable local spool: records that cannot be written to the store now are appended (and fsynced) to a JSONL
// file and replayed later. Replay is idempotent on the consumer side (records carry their own primary key).
import fs from 'node:fs';
import path from 'node:path';

export class JsonlSpool<T> {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }

  /** Append records durably; resolves after fsync. */
  append(records: T[]): Promise<void> {
    const run = this.chain.then(async () => {
      const fh = await fs.promises.open(this.file, 'a', 0o600);
      try {
        await fh.write(records.map((r) => JSON.stringify(r) + '\n').join(''));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  count(): number {
    try {
      const text = fs.readFileSync(this.file, 'utf8');
      return text.split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  }

  /**
   * Hand every spooled record to `write`; the file is truncated only after `write` resolved for all of them.
   * Records appended during the replay are kept (the replayed prefix is cut off, not the whole file).
   */
  replay(write: (records: T[]) => Promise<void>): Promise<number> {
    const run = this.chain.then(async () => {
      let text: string;
      try {
        text = await fs.promises.readFile(this.file, 'utf8');
      } catch {
        return 0;
      }
      const lines = text.split('\n').filter(Boolean);
      if (lines.length === 0) return 0;
      const records: T[] = [];
      for (const line of lines) {
        try {
          records.push(JSON.parse(line) as T);
        } catch {
          // A torn last line from a crash mid-append: skip it rather than block the spool forever.
        }
      }
      await write(records);
      await fs.promises.writeFile(this.file, '', { mode: 0o600 });
      return records.length;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
