// The local claims spool (<data dir>/claims_audit.jsonl): every claim is appended here and fsynced BEFORE /log_claim
// answers, then copied to the store. A record leaves the spool only once the store holds it, so a store outage
// or a sidecar restart loses nothing: on start the file is read back and its records are written again
// (idempotent: records carry their own id). Appends are group-committed (one write + fdatasync per batch), so many
// concurrent claims cost one disk flush, not one each.
import fs from 'node:fs';
import path from 'node:path';
import type { NewClaim } from './claims.js';

interface Waiting {
  record: NewClaim;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class ClaimSpool {
  private readonly pending = new Map<string, NewClaim>();
  private batch: Waiting[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private scheduled = false;
  private fh: fs.promises.FileHandle | undefined;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      // no spool yet
    }
    // A crash mid-append leaves a line without its newline: end it, or the next record would be glued to it.
    if (text && !text.endsWith('\n')) fs.appendFileSync(file, '\n');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as NewClaim;
        if (r && typeof r.id === 'string') this.pending.set(r.id, r);
      } catch {
        // a torn last line from a crash mid-append: that claim was never acknowledged to its client
      }
    }
  }

  /** Resolves once the record is on disk (fdatasync). */
  append(record: NewClaim): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.batch.push({ record, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.chain = this.chain.then(() => this.writeBatch()).catch(() => undefined);
      }
    });
  }

  private async writeBatch(): Promise<void> {
    this.scheduled = false;
    const batch = this.batch.splice(0);
    if (batch.length === 0) return;
    try {
      this.fh ??= await fs.promises.open(this.file, 'a', 0o600);
      await this.fh.write(batch.map((w) => JSON.stringify(w.record) + '\n').join(''));
      await this.fh.datasync();
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
      return;
    }
    for (const w of batch) {
      this.pending.set(w.record.id, w.record);
      w.resolve();
    }
  }

  /** Records on disk that the store does not hold yet, oldest first. */
  unstored(limit = Infinity): NewClaim[] {
    const out: NewClaim[] = [];
    for (const r of this.pending.values()) {
      if (out.length >= limit) break;
      out.push(r);
    }
    return out;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  get(id: string): NewClaim | undefined {
    return this.pending.get(id);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The store holds these now. When nothing is left, the file is emptied (after any append in flight). */
  markStored(ids: string[]): Promise<void> {
    for (const id of ids) this.pending.delete(id);
    if (this.pending.size > 0) return Promise.resolve();
    const run = this.chain.then(async () => {
      if (this.pending.size > 0 || this.batch.length > 0) return;
      this.fh ??= await fs.promises.open(this.file, 'a', 0o600);
      await this.fh.truncate(0);
      await this.fh.datasync();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.chain;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
