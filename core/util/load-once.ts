// A module loaded on first use (a dynamic import) rather than at start, for what only some requests need. Every
// caller awaits the load before using it, so nothing runs without the module; the first caller pays the load. A
// failed load is a coded error (WGM_ERR_INTERNAL: a 500 that says what could not be loaded, never a crash) and is not
// remembered: the next call tries again.
import { wingmanError } from '../errors.js';

/** `what`: named in the error, e.g. 'the instruction gate'. */
export function loadOnce<T>(what: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw wingmanError('WGM_ERR_INTERNAL', `${what} could not be loaded`, undefined, err);
    }));
}
