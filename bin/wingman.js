#!/usr/bin/env node
// Runs the compiled CLI (npm start / npm run build produce dist/).
import { main } from '../dist/cli/wingman.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    console.error(`wingman: ${err && err.code && String(err.code).startsWith('WGM_ERR') ? err.message : (err && err.stack) || err}`);
    process.exit(1);
  },
);
