// Regression (fuzz, #11): dockerd answers 301 to a path with `//` or dot segments. docker-modem followed the
// redirect to a network URL (`http:/containers/…` → a DNS lookup of the host `containers`) on a request with no error
// listener, and `wingman up` crashed. Names that reach an engine lookup empty, with '/', or as dot segments now get
// 400, no redirect is followed, and nothing is looked up on the network.
import http from 'node:http';
import t from 'tap';
import { openDocker } from '../../core/docker/open-docker.js';
import { dockerSocketPath } from '../helpers/env.js';
import { startWingman } from '../helpers/wingman.js';

function call(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('dockerode never follows an engine redirect', async (t) => {
  const docker = openDocker(dockerSocketPath());
  for (const name of ['..', '.', '']) {
    await t.rejects(docker.getContainer(name).inspect(), Error, `container ${JSON.stringify(name)}: an error, not a redirect followed`);
  }
});

t.test('worker-shaped names that the engine redirects get 400, and the proxy lives on', async (t) => {
  const w = await startWingman();
  t.teardown(() => w.close());
  const sock = w.proxy.socketPath('w1');
  const shapes: Array<[string, string, string?]> = [
    ['DELETE', '/v1.41/containers/?force=1'],
    ['DELETE', '/v1.41/containers/%2E%2E?force=1'],
    ['DELETE', '/v1.41/containers/%2E?force=1'],
    ['POST', '/v1.41/containers/%2E%2E/kill'],
    ['POST', '/v1.41/exec/%2E%2E/start', '{}'],
    ['POST', '/v1.41/commit?container=%2Fname'],
    ['POST', '/v1.41/volumes/create', '{"Name":"/x"}'],
    ['DELETE', '/v1.41/images/%2E%2E'],
  ];
  for (const [method, path, body] of shapes) {
    const r = await call(sock, method, path, body);
    t.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status} ${r.text.trim()}`);
  }
  const ps = await w.dockerAs('w1', ['ps', '-q']);
  t.equal(ps.code, 0, 'the proxy still serves');
});
