// Table-driven: what ownership facts do to decide(). A worker acts on its own objects, reads what ops shared for
// reading, is held for what ops shared for approval, and is refused everything else — reads included.
import t from 'tap';
import { decide } from '../../core/policy/decide.js';
import { parseGoJson } from '../../core/policy/go-json.js';
import { normalizeTarget } from '../../core/policy/normalize.js';
import type { ObjectFact, ObjectFacts } from '../../core/policy/object-facts.js';
import { requestedObjects, routeTarget } from '../../core/policy/object-facts.js';
import { matchRoute } from '../../core/policy/match-route.js';
import { EMPTY_POLICY, parsePolicy } from '../../core/policy/policy-file.js';

const P = EMPTY_POLICY.forWorker('w1');
const SHARED = parsePolicy(
  [
    'workers:',
    '  w1:',
    '    shared:',
    '      - { kind: volume, name: "db-*", access: read }',
    '      - { kind: container, name: "pinned-*", access: approve }',
    '      - { kind: image, name: "base/**", access: approve }',
  ].join('\n'),
  't',
).forWorker('w1');

type Owner = string | null;
const T = (kind: ObjectFact['kind'], name: string, owner: Owner, extra: Partial<ObjectFact> = {}): ObjectFact => ({
  kind,
  ref: name,
  use: 'target',
  exists: true,
  id: `${name}-id`,
  names: [name],
  owner,
  ...extra,
});
const R = (kind: ObjectFact['kind'], name: string, owner: Owner, use: ObjectFact['use'], exists = true): ObjectFact => ({
  kind,
  ref: name,
  use,
  exists,
  id: name,
  names: [name],
  owner,
});

function d(method: string, target: string, objects: ObjectFacts, opts: { body?: object; policy?: typeof P } = {}) {
  return decide({
    method,
    target: normalizeTarget(target),
    worker: 'w1',
    body: opts.body ? parseGoJson(JSON.stringify(opts.body)) : undefined,
    policy: opts.policy ?? P,
    objects,
  });
}

// what, method, path, facts, policy, expected action, reason pattern
const rows: Array<[string, string, string, ObjectFacts, typeof P, 'allow' | 'approve' | 'deny', RegExp?]> = [
  ['inspect own', 'GET', '/containers/web/json', { target: T('container', 'web', 'w1'), refs: [] }, P, 'allow'],
  ['inspect other\'s', 'GET', '/containers/web/json', { target: T('container', 'web', 'w2'), refs: [] }, P, 'deny', /container web is not w1's/],
  ['inspect nobody\'s (Wingman\'s own)', 'GET', '/containers/wingman/json', { target: T('container', 'wingman', null), refs: [] }, P, 'deny', /not w1's/],
  ['logs of other\'s', 'GET', '/containers/web/logs', { target: T('container', 'web', 'w2'), refs: [] }, P, 'deny'],
  ['unpause own', 'POST', '/containers/web/unpause', { target: T('container', 'web', 'w1'), refs: [] }, P, 'allow'],
  ['unpause other\'s', 'POST', '/containers/web/unpause', { target: T('container', 'web', 'w2'), refs: [] }, P, 'deny'],
  ['stop own: held', 'POST', '/containers/web/stop', { target: T('container', 'web', 'w1'), refs: [] }, P, 'approve'],
  ['stop other\'s: refused, not held', 'POST', '/containers/web/stop', { target: T('container', 'web', 'w2'), refs: [] }, P, 'deny'],
  ['exec start own exec', 'POST', '/exec/abc/start', { target: T('exec', 'abc', 'w1'), refs: [] }, P, 'allow'],
  ['exec start other\'s exec', 'POST', '/exec/abc/start', { target: T('exec', 'abc', 'w2'), refs: [] }, P, 'deny'],
  ['commit own: held like export', 'POST', '/commit?container=web&repo=x', { target: T('container', 'web', 'w1'), refs: [] }, P, 'approve'],
  ['commit other\'s', 'POST', '/commit?container=web&repo=x', { target: T('container', 'web', 'w2'), refs: [] }, P, 'deny'],
  ['volume rm other\'s', 'DELETE', '/volumes/v', { target: T('volume', 'v', 'w2'), refs: [] }, P, 'deny'],
  ['network disconnect own/own', 'POST', '/networks/n/disconnect', { target: T('network', 'n', 'w1'), refs: [R('container', 'web', 'w1', 'container')] }, P, 'allow'],
  ['network disconnect other\'s container', 'POST', '/networks/n/disconnect', { target: T('network', 'n', 'w1'), refs: [R('container', 'web', 'w2', 'container')] }, P, 'deny'],
  ['create mounting own volume', 'POST', '/containers/create', { refs: [R('volume', 'v', 'w1', 'mount')] }, P, 'allow'],
  ['create mounting a new volume', 'POST', '/containers/create', { refs: [R('volume', 'v', null, 'mount', false)] }, P, 'allow'],
  ['create mounting other\'s volume', 'POST', '/containers/create', { refs: [R('volume', 'v', 'w2', 'mount')] }, P, 'deny', /volume v is not w1's/],
  ['create mounting a shared-read volume writable', 'POST', '/containers/create', { refs: [R('volume', 'db-main', null, 'mount')] }, SHARED, 'deny', /reading only/],
  ['create mounting a shared-read volume read-only', 'POST', '/containers/create', { refs: [R('volume', 'db-main', null, 'mount-ro')] }, SHARED, 'allow'],
  ['create joining other\'s network', 'POST', '/containers/create', { refs: [R('network', 'n', 'w2', 'network')] }, P, 'deny'],
  ['create linking other\'s container', 'POST', '/containers/create', { refs: [R('container', 'db', 'w2', 'container')] }, P, 'deny'],
  ['volume create over other\'s name', 'POST', '/volumes/create', { refs: [R('volume', 'v', 'w2', 'create')] }, P, 'deny', /already exists and is not w1's/],
  ['tag a new reference', 'POST', '/images/busybox/tag?repo=mine&tag=1', { target: T('image', 'busybox', null), refs: [R('image', 'mine:1', null, 'new-ref', false)] }, P, 'allow'],
  ['tag over other\'s reference', 'POST', '/images/busybox/tag?repo=theirs&tag=1', { target: T('image', 'busybox', null), refs: [R('image', 'theirs:1', 'w2', 'new-ref')] }, P, 'deny', /already exists and is not w1's/],
  ['tag over an unowned existing reference', 'POST', '/images/busybox/tag?repo=busybox&tag=latest', { target: T('image', 'busybox', null), refs: [R('image', 'busybox:latest', null, 'new-ref')] }, P, 'deny'],
  ['tag over a shared-approve reference: held', 'POST', '/images/x/tag?repo=base/py&tag=3', { target: T('image', 'x', 'w1'), refs: [R('image', 'base/py:3', null, 'new-ref')] }, SHARED, 'approve'],
  ['rmi own reference: held', 'DELETE', '/images/mine:1', { target: T('image', 'mine:1', 'w1'), refs: [] }, P, 'approve'],
  ['rmi other\'s reference', 'DELETE', '/images/theirs:1', { target: T('image', 'theirs:1', 'w2'), refs: [] }, P, 'deny'],
  ['rmi by id with someone else\'s tag', 'DELETE', '/images/sha256:abc', { target: T('image', 'sha256:abc', null, { refOwners: [['mine:1', 'w1'], ['theirs:1', 'w2']] }), refs: [] }, P, 'deny', /theirs:1/],
  ['rmi by id, all tags own: held', 'DELETE', '/images/sha256:abc', { target: T('image', 'sha256:abc', null, { refOwners: [['mine:1', 'w1']] }), refs: [] }, P, 'approve'],
  ['inspect any image (shared for reading)', 'GET', '/images/busybox/json', { target: T('image', 'busybox', null), refs: [] }, P, 'allow'],
  ['kill a shared-approve container: held', 'POST', '/containers/pinned-db/kill', { target: T('container', 'pinned-db', null), refs: [] }, SHARED, 'approve'],
  ['inspect a shared-approve container: held', 'GET', '/containers/pinned-db/json', { target: T('container', 'pinned-db', null), refs: [] }, SHARED, 'approve'],
  ['attach with stdin to own: the exec decision', 'POST', '/containers/web/attach?stream=1&stdin=1', { target: T('container', 'web', 'w1'), refs: [] }, P, 'approve'],
  ['attach without stdin to own', 'POST', '/containers/web/attach?stream=1&stdout=1', { target: T('container', 'web', 'w1'), refs: [] }, P, 'allow'],
  ['attach/ws with stdin to own', 'GET', '/containers/web/attach/ws?stdin=true', { target: T('container', 'web', 'w1'), refs: [] }, P, 'approve'],
];

t.test('ownership table', async (t) => {
  for (const [what, method, path, facts, policy, action, why] of rows) {
    const r = d(method, path, facts, { policy });
    t.equal(r.action, action, `${what}: ${action} (${r.reasons.join('; ')})`);
    if (why) t.match(r.reasons.join('; '), why, `${what}: reason`);
  }
});

t.test('attach with stdin takes the exec rule and its per-worker override', async (t) => {
  const r = d('POST', '/containers/web/attach?stdin=1', { target: T('container', 'web', 'w1'), refs: [] });
  t.equal(r.rule.id, 'ContainerExec');
  t.match(r.summary, /with stdin/);
  const loose = parsePolicy('workers:\n  w1:\n    rules: { ContainerExec: allow }\n', 't').forWorker('w1');
  t.equal(d('POST', '/containers/web/attach?stdin=1', { target: T('container', 'web', 'w1'), refs: [] }, { policy: loose }).action, 'allow');
});

t.test('what a request names is found in every place dockerd reads it', async (t) => {
  const m = matchRoute('POST', '/containers/create');
  const body = parseGoJson(
    JSON.stringify({
      Image: 'busybox',
      Binds: ['legacy:/l'],
      HostConfig: {
        Binds: ['data:/d:ro', '/host:/h'],
        Mounts: [{ Type: 'volume', Source: 'm1', Target: '/m' }, { Type: 'bind', Source: '/x', Target: '/x' }],
        NetworkMode: 'back',
        Links: ['db:database'],
      },
      NetworkingConfig: { EndpointsConfig: { front: {}, bridge: {} } },
    }),
  );
  const got = requestedObjects(m.rule, normalizeTarget('/containers/create'), body).map((o) => `${o.kind}:${o.ref}:${o.use}`);
  t.same(got.sort(), ['container:db:container', 'network:back:network', 'network:front:network', 'volume:data:mount-ro', 'volume:legacy:mount', 'volume:m1:mount'].sort());
  const tag = matchRoute('POST', '/images/busybox/tag');
  t.same(requestedObjects(tag.rule, normalizeTarget('/images/busybox/tag?repo=docker.io/library/x&tag=2'), undefined), [{ kind: 'image', ref: 'x:2', use: 'new-ref' }]);
  const commit = matchRoute('POST', '/commit');
  t.same(routeTarget(commit.rule, commit.params, normalizeTarget('/commit?container=web')), { kind: 'container', ref: 'web', use: 'target' });
  const build = matchRoute('POST', '/build');
  t.same(
    requestedObjects(build.rule, normalizeTarget('/build?t=a&t=b:1'), undefined).map((o) => o.ref),
    ['a:latest', 'b:1'],
  );
});
