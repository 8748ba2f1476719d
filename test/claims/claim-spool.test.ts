// The local claims spool: durable before the answer, group-committed, read back after a restart (including a torn
// last line), emptied only once the store holds everything.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ClaimSpool } from '../../core/claims/claim-spool.js';
import type { NewClaim } from '../../core/claims/claims.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-spool-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

const claim = (i: number): NewClaim => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  worker: 'w1',
  instruction_id: null,
  type: 'file_deleted',
  params: { path: `/tmp/${i}` },
  source: 'structured',
  raw_text: null,
  logged_at: new Date(0).toISOString(),
});

const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);

t.test('append is durable, concurrent appends share writes, a new instance reads them back', async (t) => {
  const file = path.join(dir, 'a', 'claims_audit.jsonl');
  const s = new ClaimSpool(file);
  await Promise.all(Array.from({ length: 200 }, (_, i) => s.append(claim(i))));
  t.equal(lines(file).length, 200, 'every record is on disk when append resolves');
  t.equal(s.size, 200);
  await s.close();
  const again = new ClaimSpool(file);
  t.equal(again.size, 200, 'a restarted sidecar sees every unstored claim');
  t.same(again.unstored(2).map((c) => c.id), [claim(0).id, claim(1).id], 'oldest first');
  await again.markStored(again.unstored(150).map((c) => c.id));
  t.equal(again.size, 50);
  t.equal(lines(file).length, 200, 'the file is not rewritten while claims remain unstored');
  await again.markStored(again.unstored().map((c) => c.id));
  t.equal(again.size, 0);
  t.equal(fs.readFileSync(file, 'utf8'), '', 'emptied once the store holds everything');
  await again.append(claim(999));
  t.equal(lines(file).length, 1, 'appends continue after the truncation');
  await again.close();
});

t.test('a torn last line (crash mid-append) is skipped and does not swallow the next record', async (t) => {
  const file = path.join(dir, 'b', 'claims_audit.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(claim(1)) + '\n' + JSON.stringify(claim(2)).slice(0, 40));
  const s = new ClaimSpool(file);
  t.equal(s.size, 1);
  await s.append(claim(3));
  await s.close();
  const again = new ClaimSpool(file);
  t.same(again.unstored().map((c) => c.id), [claim(1).id, claim(3).id]);
  await again.close();
});
