// A TCP relay in front of the real Postgres that a test can cut and restore: an outage of the store as the
// application sees it (connections drop, new ones are refused), without stopping a server other tests share.
import net from 'node:net';

export interface TcpRelay {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    get port() {
      return port;
    },
    cut,
    restore: listen,
    close: cut,
  };
}

/** A relay in front of a Postgres URL: `url` reaches the same database through the relay, which the test can cut. */
export async function startDatabaseRelay(databaseUrl: string): Promise<TcpRelay & { url: string }> {
  const u = new URL(databaseUrl);
  const relay = await startTcpRelay(u.hostname, Number(u.port || 5432));
  const via = new URL(databaseUrl);
  via.port = String(relay.port);
  return Object.assign(relay, { url: via.toString() });
}
