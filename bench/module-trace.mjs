// `--import`ed into a wingman process by bench/memory.ts (through NODE_OPTIONS): appends every module the process
// (and its worker threads) loads, ES modules and CommonJS alike, to $WGM_TRACE_FILE as `<thread id> <file>` lines
// (ES modules carry the id of the loader hooks' own thread).
import fs from 'node:fs';
import Module, { register } from 'node:module';
import { threadId } from 'node:worker_threads';

const file = process.env.WGM_TRACE_FILE;
if (file) {
  const hooks = `import fs from 'node:fs'; import { threadId } from 'node:worker_threads';
export async function load(url, ctx, next) { fs.appendFileSync(${JSON.stringify(file)}, threadId + ' ' + url + '\\n'); return next(url, ctx); }`;
  register('data:text/javascript,' + encodeURIComponent(hooks));
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const loaded = load.call(this, request, parent, isMain);
    try {
      if (!request.startsWith('node:') && !Module.isBuiltin(request)) fs.appendFileSync(file, `${threadId} ${Module._resolveFilename(request, parent)}\n`);
    } catch {
      // a module we cannot name is still loaded; the trace only counts
    }
    return loaded;
  };
}
