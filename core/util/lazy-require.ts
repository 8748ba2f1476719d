// A dependency required on first use instead of imported at start, for a package only some requests need (a tar
// reader for claim checks, a TAP parser for test output, a YAML parser for a policy file): a process that never
// needs it never loads it. Synchronous, for call sites that cannot await; the package must be loadable with
// require (CommonJS, or a dual package's CommonJS build). Requiring is memoised by Node itself; a failure throws at
// the call site, where the caller's error handling applies, and the next call tries again.
import { createRequire } from 'node:module';

/** `from`: the caller's import.meta.url (resolution is the caller's). */
export function lazyRequire<T>(from: string, id: string): () => T {
  const req = createRequire(from);
  let loaded: T | undefined;
  return () => (loaded ??= req(id) as T);
}
