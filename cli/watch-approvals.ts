// `wingman approvals --watch`: the pending list, then each change as it happens, read from the control API's
// event stream (GET /events, the same one the console reads). Runs until Ctrl-C; reconnects when the stream drops.
import type { ApprovalAnswer, ApprovalsAnswer } from '../control/api-schema.js';
import type { Config } from '../core/config.js';
import { readApiToken } from './api-token.js';
import { approvalText, approvalsText } from './approval-text.js';
import { callControl, controlBase, ControlError } from './ops-client.js';

export interface WatchIo {
  out(s: string): void;
  signal: AbortSignal;
}

export async function watchApprovals(config: Config, io: WatchIo): Promise<number> {
  const token = readApiToken(config);
  const base = controlBase(config);
  const show = async (id: string, topic: string) => {
    const r = await callControl<ApprovalAnswer>(config, 'GET', `/approvals/${encodeURIComponent(id)}`);
    if (r.status !== 200) return;
    const a = r.json.approval;
    const at = new Date().toISOString().slice(11, 19);
    if (topic === 'approval.requested') io.out(`\n${at} held:\n${approvalText(a)}\n`);
    else io.out(`${at} ${a.id} ${a.worker}: ${a.summary} -> ${approvalText(a).split('\n')[0].split('  ').slice(2).join('  ')}\n`);
  };
  let first = true;
  while (!io.signal.aborted) {
    let res: Response;
    try {
      res = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${token}` }, signal: io.signal });
    } catch (err) {
      if (io.signal.aborted) break;
      io.out(`wingman: event stream at ${base} unreachable (${(err as Error).message}); retrying\n`);
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    if (res.status === 401) throw new ControlError('the control API refused the API token: set WINGMAN_API_TOKEN to the token `wingman up` wrote (<data dir>/api-token)');
    if (!res.ok || !res.body) throw new ControlError(`the control API answered ${res.status} for /events`);
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'ready') {
            // Listed after the stream is reading, so nothing between the list and the stream is missed.
            const r = await callControl<ApprovalsAnswer>(config, 'GET', '/approvals?status=pending');
            if (r.status !== 200) throw new ControlError(r.json.message ?? `the control API answered ${r.status}`);
            if (first) io.out(`${approvalsText(r.json.approvals)}\n\nwatching for changes (Ctrl-C stops)\n`);
            first = false;
          } else if (event === 'change' && data) {
            const e = JSON.parse(data) as { topic: string; id?: string };
            if (e.id && e.topic.startsWith('approval.')) await show(e.id, e.topic);
          }
        }
      }
    } catch (err) {
      if (io.signal.aborted) break;
      if (err instanceof ControlError) throw err;
    }
    if (!io.signal.aborted) io.out('wingman: event stream closed; reconnecting\n');
    await new Promise((r) => setTimeout(r, 1000));
  }
  return 0;
}
