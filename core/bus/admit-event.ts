// The edge of the bus: a payload read back from a stream becomes a typed event only if it fits its topic. One that
// does not (a publisher on another version, a hand-written XADD, a bug) is dropped, logged and counted here, never
// passed on half-read: a consumer that coerced a missing `worker` to '' would act on the wrong worker or none.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { BusEvent } from './bus.js';
import { parseTopicPayload, type Topic } from './topics.js';

export interface EdgeDeps {
  log?: Logger;
  metrics?: Metrics;
}

/** The event, or undefined when its payload does not fit `topic` (already logged and counted). */
export function admitEvent<T extends Topic>(
  deps: EdgeDeps,
  where: 'consume' | 'watch',
  topic: T,
  id: string,
  raw: unknown,
  deliveries: number,
): BusEvent<T> | undefined {
  const parsed = parseTopicPayload(topic, raw);
  if (parsed.ok) return { id, topic, data: parsed.data, deliveries };
  deps.metrics?.busEventsDropped.inc({ topic });
  deps.log?.warn({ topic, id, where, problem: parsed.error }, 'bus: event payload does not fit its topic; dropped');
  return undefined;
}
