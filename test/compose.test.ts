// The compose files: valid YAML, every ${VAR} documented in .env.example, and the worker example keeps the sidecar
// apart from its worker (own uid, its own socket, the worker's namespace for 127.0.0.1 only).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { ROOT } from './helpers/wingman.js';

const dir = path.join(ROOT, 'compose');
const files = fs.readdirSync(dir).filter((f) => /^docker-compose\..*\.yml$/.test(f));
const example = fs.readFileSync(path.join(dir, '.env.example'), 'utf8');
const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));

t.test('every compose file parses and uses only documented variables', async (t) => {
  t.ok(files.length >= 5, files.join(', '));
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    t.type(parse(text), 'object', `${f} parses`);
    for (const m of text.matchAll(/\$\{([A-Z0-9_]+)(:-[^}]*)?\}/g)) {
      if (!m[2]) t.ok(documented.has(m[1]), `${f}: ${m[1]} is in .env.example`);
    }
  }
});

t.test('the worker example: the sidecar runs apart from its worker', async (t) => {
  const doc = parse(fs.readFileSync(path.join(dir, 'docker-compose.worker.example.yml'), 'utf8'));
  const sc = doc.services['sidecar-w1'];
  const worker = doc.services['worker-w1'];
  t.equal(sc.command[0], 'sidecar');
  t.equal(sc.network_mode, 'service:worker-w1', "shares the worker's network namespace (127.0.0.1:8787)");
  t.not(sc.user.split(':')[0], worker.user, 'not the worker uid');
  t.notMatch(sc.user, /^(0|root)\b/, 'not root');
  t.same(sc.volumes, ['${WINGMAN_SOCKET_DIR}/_sidecar/w1:/var/run/wingman-sidecar'], 'only its own identity socket');
  t.same(worker.volumes, ['${WINGMAN_SOCKET_DIR}/w1:/var/run/wingman'], "the worker only its own socket");
  t.equal(sc.environment.WINGMAN_SIDECAR_SOCKET, '/var/run/wingman-sidecar/docker.sock');
  t.notOk(JSON.stringify(doc).includes('docker.sock:/'), 'no raw engine socket in the worker example');
  t.same(doc.services.proxy.group_add, ['${WINGMAN_SIDECAR_GID}'], 'the proxy can give the sidecar socket to its group');
});

t.test('the engine socket: the processes that mount it get the group that can open it', async (t) => {
  const base = parse(fs.readFileSync(path.join(dir, 'docker-compose.base.yml'), 'utf8'));
  for (const svc of ['control', 'proxy']) {
    t.ok((base.services[svc].volumes as string[]).some((v) => v.startsWith('${DOCKER_SOCKET}:')), `${svc} mounts the engine socket`);
    t.same(base.services[svc].group_add, ['${DOCKER_GID:-999}'], `${svc} runs with the socket's group`);
  }
  t.match(example, /^DOCKER_GID=/m, '.env.example says how to set it');
});

t.test('.env.example sets no host port: copied for DEV, it keeps the DEV defaults', async (t) => {
  for (const name of ['WINGMAN_PORT', 'POSTGRES_PORT', 'REDIS_PORT', 'PROMETHEUS_PORT', 'GRAFANA_PORT']) {
    t.notOk(documented.has(name), `${name} is not set (only shown commented out)`);
    t.match(example, new RegExp(`^# ${name}=`, 'm'), `${name} is shown`);
  }
  for (const f of files.filter((f) => /\.(dev|test|prd)\.yml$/.test(f))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/\$\{([A-Z_]+_PORT)(:-[^}]*)?\}/g)) t.ok(m[2], `${f}: ${m[1]} has a default`);
  }
});
