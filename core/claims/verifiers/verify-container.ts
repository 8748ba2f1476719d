// container_running: a container (one the worker started through its proxy) by name or id, from the engine.
import { verdict, type Verifier } from './verify-context.js';

export const verifyContainerRunning: Verifier = async (params, ctx) => {
  const verifier = 'container.inspect';
  const name = String(params.name);
  const c = await ctx.container.inspectContainer(name);
  if (!c) return verdict('FALSE', verifier, `no container named ${JSON.stringify(name)}`, { name, exists: false });
  if (c === 'not-owned') {
    return verdict('FALSE', verifier, `container ${JSON.stringify(name)} exists but is not one the worker started (not its own)`, { name, owned: false });
  }
  const ev = { name: c.name, id: c.id.slice(0, 12), status: c.status };
  return c.running
    ? verdict('TRUE', verifier, `container ${c.name} is running`, ev)
    : verdict('FALSE', verifier, `container ${c.name} exists but is ${c.status}`, ev);
};
