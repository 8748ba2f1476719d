#!/usr/bin/env node
// Runs the compiled CLI (npm start / npm run build produce dist/). Failures are one line: what went wrong, what to do.
import { runMain } from '../dist/cli/wingman.js';

runMain(process.argv.slice(2));
