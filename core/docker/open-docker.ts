// The one way Wingman's processes get a dockerode client. docker-modem follows HTTP redirects (it is "based on
// follow-redirects"), and dockerd answers 301 to a path with `//` or dot segments: followed, the Location becomes a
// network URL (`http:/containers/...` resolves to the host `containers`), so a worker-shaped name could make a
// process look up and connect to a host, and the failed request had no error listener (the process crashed). No
// redirect is followed: an engine 3xx is an error of the call that got it.
//
// dockerode loads, at require time, transports and features Wingman never uses: docker-modem's SSH transport
// (ssh2, its crypto and a native addon), dockerode's BuildKit session (gRPC, protobufjs) and tar-fs (build contexts).
// About 4 MB of heap in every process that talks to Docker; they are deferred (core/util/defer-cjs.ts) and load
// only if ever used. dockerode itself is required here, after that, rather than imported (an import would load it
// before this module's code runs).
import { createRequire } from 'node:module';
import type Dockerode from 'dockerode';
import { deferCjs } from '../util/defer-cjs.js';

// dockerode's main file (lib/docker.js): './session.js' and 'tar-fs' resolve from it as from its lib/util.js.
const dockerodeFile = createRequire(import.meta.url).resolve('dockerode');
const fromDockerode = createRequire(dockerodeFile);
deferCjs(createRequire(fromDockerode.resolve('docker-modem')), './ssh.js', 'function');
deferCjs(fromDockerode, './session.js', 'function');
deferCjs(fromDockerode, 'tar-fs', 'object');
const DockerodeClass = fromDockerode(dockerodeFile) as typeof Dockerode;
(fromDockerode('docker-modem/lib/http.js') as { maxRedirects: number }).maxRedirects = 0;

export function openDocker(socketPath: string): Dockerode {
  return new DockerodeClass({ socketPath });
}
