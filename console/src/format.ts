// Small display helpers: times, durations, ids.

/** `4:05` left, `1 h 02 min` left, or `expired`. */
export function timeLeft(expiresAt: string, now: number): string {
  const s = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (s <= 0) return 'expired';
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** `12 s ago`, `3 min ago`, `2 h ago`, or the date. */
export function ago(at: string | null | undefined, now: number): string {
  if (!at) return 'never';
  const s = Math.max(0, Math.floor((now - Date.parse(at)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return utc(at);
}

/** `2026-05-01 12:10:00 UTC` */
export function utc(at: string | null | undefined): string {
  return at ? `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '';
}

/** Engine ids (64 hex) as `docker ps` shows them; anything else as it is. */
export function shortId(id: string): string {
  return /^(sha256:)?[0-9a-f]{64}$/.test(id) ? id.replace(/^sha256:/, '').slice(0, 12) : id;
}

/** A datetime-local input's value as an ISO time (the browser's time zone), or undefined. */
export function isoFromLocal(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function json(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}
