// The one way Wingman's processes get a dockerode client. docker-modem follows HTTP redirects (it is "based on
// follow-redirects"), and dockerd answers 301 to a path with `//` or dot segments: followed, the Location becomes a
// network URL (`http:/containers/...` resolves to the host `containers`), so a worker-shaped name could make a
// process look up and connect to a host, and the failed request had no error listener (the process crashed). No
// redirect is followed: an engine 3xx is an error of the call that got it.
import { createRequire } from 'node:module';
import Dockerode from 'dockerode';

const fromDockerode = createRequire(createRequire(import.meta.url).resolve('dockerode'));
(fromDockerode('docker-modem/lib/http.js') as { maxRedirects: number }).maxRedirects = 0;

export function openDocker(socketPath: string): Dockerode {
  return new Dockerode({ socketPath });
}
