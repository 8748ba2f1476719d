// Runs a worker-supplied regular expression against file content with a time limit: a catastrophic pattern such as
// /(a+)+$/ is stopped (V8 checks for termination inside the regex engine) instead of blocking the sidecar.
import vm from 'node:vm';

const context = vm.createContext({ re: null as RegExp | null, s: '' });
const script = new vm.Script('re.test(s)');

export type RegexOutcome = { matched: boolean } | { timedOut: true };

export function regexTest(pattern: string, text: string, timeoutMs = 250): RegexOutcome {
  context.re = new RegExp(pattern, 'mu');
  context.s = text;
  try {
    return { matched: Boolean(script.runInContext(context, { timeout: timeoutMs })) };
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return { timedOut: true };
    throw err;
  } finally {
    context.re = null;
    context.s = '';
  }
}
