// Bodies whose types Go cannot decode (issue 11, finding 6). dockerd answers `"HostConfig": []`, `"Cmd": 3.14`, a
// top-level array or an empty create with a 500; through the proxy they get a 400 in Docker's error shape that
// names the field, and never reach the engine. Bodies Go does decode (a string Cmd, field names in any case,
// unknown fields, nulls) still pass, and the engine acts on them.
import http from 'node:http';
import t from 'tap';
import { docker, dockerOk, dockerSocketPath, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const containers: string[] = [];
const networks: string[] = [];

t.before(async () => {
  w = await startWingman();
});
t.teardown(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  for (const n of networks) await docker(['network', 'rm', n]);
  await w.close();
});

/** One request over a unix socket; `body` undefined sends none (Content-Length: 0). */
function call(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(body ?? '');
    const req = http.request(
      { socketPath, method, path, headers: { 'content-type': 'application/json', 'content-length': data.length } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const viaProxy = (method: string, path: string, body?: string) => call(w.proxy.socketPath('w1'), method, path, body);
const direct = (method: string, path: string, body?: string) => call(dockerSocketPath(), method, path, body);
const exists = async (kind: 'container' | 'network', name: string) => (await docker([kind, 'inspect', name])).code === 0;

const img = JSON.stringify(TEST_IMAGE);
const BAD_CREATES: Array<[string, string | undefined, RegExp]> = [
  ['HostConfig is an array', `{"Image":${img},"HostConfig":[]}`, /HostConfig must be an object \(or null\), not an array/],
  ['Cmd is a number', `{"Image":${img},"Cmd":3.14}`, /Cmd must be a string or an array \(or null\), not the number 3.14/],
  ['a top-level array', '[]', /the body must be an object \(or null\), not an array/],
  ['an empty body', undefined, /a JSON body is required/],
  ['a lower-case field name, an integer written 1.0', `{"Image":${img},"hostconfig":{"memory":1.0}}`, /HostConfig\.Memory must be a whole number that fits Go's int64, not 1\.0/],
  ['a label that is not a string', `{"Image":${img},"Labels":{"a":1}}`, /Labels\.a must be a string \(or null\), not the number 1/],
  ['a negative file mode', `{"Image":${img},"HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/x","TmpfsOptions":{"Mode":-1}}]}}`, /HostConfig\.Mounts\[0\]\.TmpfsOptions\.Mode must be a whole number that fits Go's uint32, not -1/],
];

t.test('container create: type-invalid bodies get 400 and never reach dockerd, which would answer 500', async (t) => {
  for (const [what, body, message] of BAD_CREATES) {
    const name = testName('types');
    containers.push(name);
    const r = await viaProxy('POST', `/v1.41/containers/create?name=${name}`, body);
    t.equal(r.status, 400, `${what}: 400`);
    t.match(r.json.message, /^wingman: wrong type in request body: Docker Engine API v1\.41 ContainerCreate: /, `${what}: Docker's error shape`);
    t.match(r.json.message, message, `${what}: names the field (${r.json.message})`);
    t.notOk(await exists('container', name), `${what}: no container was created`);

    const d = await direct('POST', `/v1.41/containers/create?name=${name}`, body);
    t.equal(d.status, 500, `${what}: dockerd itself answers 500 (${d.json.message})`);
    t.notOk(await exists('container', name), `${what}: nor by dockerd`);
  }
});

t.test('bodies Go decodes still pass, and the engine acts on them', async (t) => {
  const name = testName('types-ok');
  containers.push(name);
  // A string Cmd (strslice), field names in other case, unknown fields, nulls, a string CapDrop.
  const body = `{"image":${img},"Cmd":"true","Env":null,"NoSuchField":[1,{"x":2}],"Labels":{"wgmtest":"1"},
    "HOSTCONFIG":{"Memory":67108864,"Binds":null,"CapDrop":"MKNOD","ConsoleSize":[0,0],"LogConfig":{"Type":"","Config":{}}},
    "ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000}}`;
  const r = await viaProxy('POST', `/v1.41/containers/create?name=${name}`, body);
  t.equal(r.status, 201, `created (${JSON.stringify(r.json)})`);
  const seen = JSON.parse(await dockerOk(['inspect', name]))[0];
  t.equal(seen.HostConfig.Memory, 67108864, 'the engine applied the lower-case-keyed HostConfig');
  t.same(seen.Config.Cmd, ['true'], 'and the string Cmd');
  t.same(seen.HostConfig.CapDrop, ['MKNOD'], 'and the string CapDrop');

  const up = await viaProxy('POST', `/v1.41/containers/${name}/update`, '{"Memory":"1g"}');
  t.equal(up.status, 400, 'an update with a string Memory: 400 before any approval is asked');
  t.match(up.json.message, /ContainerUpdate: Memory must be a whole number \(or null\), not a string/);
  t.same(await w.control.approvals.list({ status: 'pending', worker: 'w1' }), [], 'no approval was created');
  const d = await direct('POST', `/v1.41/containers/${name}/update`, '{"Memory":"1g"}');
  t.equal(d.status, 500, `dockerd itself answers 500 (${d.json.message})`);
});

t.test('other inspected bodies: network create', async (t) => {
  const name = testName('types-net');
  networks.push(name);
  const r = await viaProxy('POST', '/v1.41/networks/create', JSON.stringify({ Name: name, Labels: [] }));
  t.equal(r.status, 400);
  t.match(r.json.message, /NetworkCreate: Labels must be an object \(or null\), not an array/);
  t.notOk(await exists('network', name), 'no network was created');
  const ok = await viaProxy('POST', '/v1.41/networks/create', JSON.stringify({ Name: name, Internal: true, Options: { 'com.docker.network.driver.mtu': '1400' }, Labels: { wgmtest: '1' } }));
  t.equal(ok.status, 201, `a valid network create passes (${JSON.stringify(ok.json)})`);
  t.ok(await exists('network', name));
});
