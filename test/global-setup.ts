import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/source/embedded-postgres.ts';

let server: EmbeddedServer | undefined;

/** One real PostgreSQL for the whole run; every suite creates its own database on it. */
export async function setup(project: TestProject): Promise<void> {
  server = await startEmbeddedPostgres();
  project.provide('pgAdminUrl', server.url('postgres'));
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
