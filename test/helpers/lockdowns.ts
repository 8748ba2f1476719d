// Tests lock workers down through the one path production takes (core/lockdown/lockdowns.ts): the store row, the
// lockdown_events row, the mirror and the bus event. The container is left alone (action 'none'): these tests are
// about what the gate and the proxy refuse, not about pausing a container.
import Dockerode from 'dockerode';
import type { Bus } from '../../core/bus/bus.js';
import { MemoryLockMirror, storeLockSource } from '../../core/lockdown/lock-mirror.js';
import { Lockdowns } from '../../core/lockdown/lockdowns.js';
import { createLogger } from '../../core/log.js';
import type { Db } from '../../core/store/db.js';
import { dockerSocketPath } from './env.js';

export function testLockdowns(db: Db, bus: Bus): Lockdowns {
  return new Lockdowns(
    db,
    bus,
    new Dockerode({ socketPath: dockerSocketPath() }),
    new MemoryLockMirror(storeLockSource(db)),
    { lockdownAction: 'none' },
    createLogger({ level: 'silent' }),
  );
}
