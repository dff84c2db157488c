import pino from 'pino';
import { Registry } from 'prom-client';
import { type AppDeps, createApp } from '../../src/api/app.ts';
import { serve } from '../../src/api/server.ts';

/** The whole API over a test warehouse, on a real HTTP server at a free loopback port, logging nothing. */
export async function serveApi(deps: Pick<AppDeps, 'config' | 'warehouse'> & Partial<AppDeps>): Promise<{
  url: string;
  /** GET with a bearer key. */
  get(path: string, key: string): Promise<Response>;
  close(): Promise<void>;
}> {
  const app = createApp({ logger: pino({ level: 'silent' }), registry: new Registry(), ...deps });
  const http = await serve(app, { host: '127.0.0.1', port: 0 });
  return {
    url: http.url,
    get: (path, key) => fetch(`${http.url}${path}`, { headers: { authorization: `Bearer ${key}` } }),
    close: () => http.close(1000),
  };
}
