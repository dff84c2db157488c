import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningServer {
  url: string;
  /** Stops accepting, closes idle keep-alive sockets now and force-closes the rest after `deadlineMs`. */
  close(deadlineMs: number): Promise<void>;
}

/** Listens with @hono/node-server; resolves once the port is bound (port 0 picks a free one). */
export async function serve(app: { fetch: Hono['fetch'] }, opts: { host: string; port: number }): Promise<RunningServer> {
  const server = honoServe({ fetch: app.fetch, hostname: opts.host, port: opts.port }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    close(deadlineMs: number) {
      closing ??= new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadlineMs));
        timer.unref();
        server.close((err) => {
          clearTimeout(timer);
          if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(err);
          else resolve();
        });
        // close() waits for keep-alive sockets; idle ones can go now, busy ones finish their request.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
