#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the compiled CLI (npm start / npm run build produce dist/). Failures are one line: what went wrong, what to do.
// Node's flags (here, in the Dockerfile's ENTRYPOINT and in scripts/start.mjs; test/docs/node-flags.test.ts keeps them
// the same): a young generation of up to 64 MB, so the Buffers of a proxied stream (docker logs, exports) die young;
// at V8's default they were promoted and made a full GC of the whole heap every 16 MB or so (about twice the CPU per
// MiB: docs/operations.md, "Node flags").
import { runMain } from '../dist/cli/wingman.js';

runMain(process.argv.slice(2));
