// A stand-in for a CommonJS module, put in require's cache so that the packages that require it at load time get
// the stand-in, and the real module loads on its first use: a call (a module that exports a function) or a property
// read (one that exports an object). For dependencies of our dependencies that load at start for features Wingman
// never uses (dockerode's SSH transport and BuildKit session, prom-client's OpenTelemetry exemplars): each costs
// heap and start-up time in every long-running process. Adding entries to require.cache is documented Node
// behaviour (https://nodejs.org/api/modules.html#requirecache).
// If the module is already loaded, or cannot be found (a dependency update moved it), nothing is deferred: the
// package then loads it itself, as before. test/validation/process-modules.test.ts pins what stays unloaded.
import { Module } from 'node:module';

/**
 * Defer `id` as `from` resolves it. `shape`: what the module exports, a function or an object (the stand-in must be
 * the same kind of thing). Returns whether a stand-in was put in place.
 */
export function deferCjs(from: NodeRequire, id: string, shape: 'function' | 'object'): boolean {
  let file: string;
  try {
    file = from.resolve(id);
  } catch {
    return false;
  }
  if (from.cache[file]) return false;
  let real: object | undefined;
  const load = (): object => {
    if (real === undefined) {
      // The stand-in leaves the cache and the real module takes its place there, for every later require too.
      delete from.cache[file];
      real = from(file) as object;
    }
    return real;
  };
  const target = shape === 'function' ? function deferred() {} : {};
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = new Proxy(target, {
    get: (_t, key): unknown => Reflect.get(load(), key),
    has: (_t, key) => Reflect.has(load(), key),
    set: (_t, key, value) => Reflect.set(load(), key, value),
    apply: (_t, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
    construct: (_t, args) => Reflect.construct(load() as new (...a: unknown[]) => object, args),
  });
  from.cache[file] = stub;
  return true;
}
