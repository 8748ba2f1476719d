#!/usr/bin/env node
// Runs the compiled CLI (npm start / npm run build produce dist/). Failures are one line: what went wrong, what to do.
import { errorLine, main } from '../dist/cli/wingman.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    console.error(errorLine(err));
    process.exit(1);
  },
);
