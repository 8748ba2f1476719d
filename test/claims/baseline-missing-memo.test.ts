// A baseline capture that finds the worker's container missing is the answer for the captures of the next 2 s (as a
// found container's details are kept by DockerodeWorkerContainer): the engine is not asked, through the proxy, once
// per approved instruction for the same "does not exist". Any other failure is not kept, and a container that is
// found again ends it.
import t from 'tap';
import { BaselineRecorder } from '../../core/claims/baseline-recorder.js';
import type { NewBaseline, TaskBaselines } from '../../core/claims/task-baselines.js';
import type { WorkerContainer } from '../../core/claims/worker-container.js';
import { wingmanError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';

function recorder(answers: (() => unknown)[]) {
  const calls = { info: 0 };
  const stored: NewBaseline[] = [];
  const container = {
    info: async () => {
      calls.info++;
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next();
    },
  } as unknown as WorkerContainer;
  const store = { insert: async (b: NewBaseline) => void stored.push(b) } as unknown as TaskBaselines;
  const r = new BaselineRecorder({ worker: 'w1', container, store, log: createLogger({ level: 'silent' }) });
  const capture = (n: number) => r.start({ instructionId: `00000000-0000-4000-8000-00000000000${n}`, start: new Date(), testProcess: null, sections: {} }).done;
  return { calls, stored, capture };
}

const missing = () => {
  throw wingmanError('WGM_ERR_CLAIM_CONTAINER_MISSING', 'w1-box');
};

t.test('a missing container is not asked about again for the next captures', async (t) => {
  const { calls, stored, capture } = recorder([missing, missing]);
  for (let n = 1; n <= 3; n++) {
    const b = await capture(n);
    t.match(b, { status: 'failed', reason: /w1-box\) does not exist/ }, `capture ${n}: failed, container missing`);
  }
  t.equal(calls.info, 1, 'the container was looked up once');
  t.equal(stored.length, 3, 'each capture still recorded its baseline');
});

t.test('an engine that could not answer is asked again', async (t) => {
  const away = () => {
    throw wingmanError('WGM_ERR_CLAIM_VERIFY_UNAVAILABLE', 'engine away');
  };
  const { calls, capture } = recorder([away, missing]);
  t.match(await capture(1), { status: 'failed', reason: /could not be inspected/ });
  t.match(await capture(2), { status: 'failed', reason: /does not exist/ });
  t.equal(calls.info, 2);
});
