// How many connections each socket (a worker's, or its sidecar's) may hold open, so one worker cannot starve the
// others of file descriptors. Every socket keeps a reserved share that nobody else can take; beyond its share it
// draws from a common pool, up to its own cap. Over its cap it gets 429 (it is using too much); with the pool
// empty it gets 503 (the proxy is full), but its reserved share always stays open.
/** admitted (and whether from the common pool: say so again at release), or why not */
export type Admit = { pooled: boolean } | 'over_share' | 'full';

export class ConnectionBudget {
  private readonly open = new Map<string, number>();
  /** connections counted against the common pool (beyond each socket's reserved share) */
  private pooled = 0;

  constructor(
    /** connections in all */
    private readonly total: number,
    /** connections one socket may hold */
    private readonly perSocket: number,
    /** sockets there may be (their reserved shares come out of `total`) */
    private readonly sockets: () => number,
  ) {}

  /** the share each socket keeps for itself: half the total split evenly, at least 2, at most its cap */
  private reserved(): number {
    return Math.max(2, Math.min(this.perSocket, Math.floor(this.total / 2 / Math.max(1, this.sockets()))));
  }

  admit(socket: string): Admit {
    const n = this.open.get(socket) ?? 0;
    if (n >= this.perSocket) return 'over_share';
    const reserved = this.reserved();
    let pooled = false;
    if (n >= reserved) {
      const pool = this.total - reserved * Math.max(1, this.sockets());
      if (this.pooled >= pool) return 'full';
      this.pooled += 1;
      pooled = true;
    }
    this.open.set(socket, n + 1);
    return { pooled };
  }

  release(socket: string, admitted: { pooled: boolean }): void {
    const n = this.open.get(socket) ?? 0;
    if (n <= 0) return;
    if (admitted.pooled && this.pooled > 0) this.pooled -= 1;
    if (n === 1) this.open.delete(socket);
    else this.open.set(socket, n - 1);
  }

  count(socket: string): number {
    return this.open.get(socket) ?? 0;
  }
}
