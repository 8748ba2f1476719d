#!/usr/bin/env node
// `npm run test:unit`: the fast lane. Pure tests only (no Postgres, Redis or dockerd), listed below, run by tap
// without coverage and without a test environment: the service variables are removed and DOCKER_HOST points at
// nothing, so a test that reaches for a service fails here instead of slowly passing. The full suite is `npm test`.
// A new test belongs here when it needs none of test/helpers/{env,db,wingman,...}.ts and spawns no processes (the
// shell wrapper's tests run the wrapper in a shell per case: minutes, so they stay in the full run); the lane's own test
// (test/docs/unit-lane.test.ts) checks every file listed exists.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNIT_TESTS = [
  'test/claims/baseline-parts.test.ts',
  'test/claims/claim-input.test.ts',
  'test/claims/claim-spool.test.ts',
  'test/claims/parse-claim-text.test.ts',
  'test/claims/primitives.test.ts',
  'test/claims/test-counts.test.ts',
  'test/config.test.ts',
  'test/docs/config-doc.test.ts',
  'test/docs/errors-doc.test.ts',
  'test/docs/node-flags.test.ts',
  'test/docs/unit-lane.test.ts',
  'test/gate/check-instruction.test.ts',
  'test/gate/instruction-rules.test.ts',
  'test/http/error-handler.test.ts',
  'test/policy/decide.test.ts',
  'test/policy/escalation-classes.test.ts',
  'test/policy/ownership.test.ts',
  'test/policy/sidecar-identity.test.ts',
  'test/proxy/segment-log.test.ts',
  'test/secrets/scan-secrets.test.ts',
  'test/telegram/message-format.test.ts',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(WGMTEST_|DATABASE_URL$|REDIS_URL$)/.test(k)));
  env.DOCKER_HOST = 'unix:///nonexistent/wingman-unit-lane.sock';
  const args = process.argv.slice(2);
  const files = args.some((a) => !a.startsWith('-')) ? [] : UNIT_TESTS;
  const tap = spawn(path.join(root, 'node_modules/.bin/tap'), ['--disable-coverage', '--jobs=2', '--reporter=terse', ...args, ...files], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  tap.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
