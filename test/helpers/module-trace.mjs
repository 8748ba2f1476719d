// `--import`ed into a wingman process (through NODE_OPTIONS) by bench/memory.ts and
// test/validation/process-modules.test.ts: appends every module the process (and its worker threads) actually loads,
// ES modules and CommonJS alike, to $WGM_TRACE_FILE as `<thread id> <file>` lines (ES modules carry the id of the
// loader hooks' own thread). Only real loads are written: a CommonJS module answered from require's cache (a second
// require, or a stand-in put there by core/util/defer-cjs.ts) is not loaded again and is not listed.
// The loader hooks run on a thread of their own, which costs the process memory: the bench measures RSS on processes
// started without this file.
import fs from 'node:fs';
import Module, { register } from 'node:module';
import { threadId } from 'node:worker_threads';

const file = process.env.WGM_TRACE_FILE;
if (file) {
  const hooks = `import fs from 'node:fs'; import { threadId } from 'node:worker_threads';
export async function load(url, ctx, next) { fs.appendFileSync(${JSON.stringify(file)}, threadId + ' ' + url + '\\n'); return next(url, ctx); }`;
  register('data:text/javascript,' + encodeURIComponent(hooks));
  // Module.prototype.load reads and runs a file: called once per CommonJS module really loaded (never for a cache hit).
  const load = Module.prototype.load;
  Module.prototype.load = function (filename) {
    try {
      fs.appendFileSync(file, `${threadId} ${filename}\n`);
    } catch {
      // a module we cannot write down is still loaded; the trace only counts
    }
    return load.call(this, filename);
  };
}
