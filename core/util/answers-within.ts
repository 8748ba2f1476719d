// Health pings: a backend that does not answer in time is as down as one that refuses (a hung connection must not
// hang /health or the lock mirror's checks).

/** true when `probe` resolves within `ms`; false when it rejects, throws or takes longer. */
export async function answersWithin(probe: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = probe().then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    return await Promise.race([answered, timedOut]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
