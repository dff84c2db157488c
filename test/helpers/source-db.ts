import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { ProfileName } from '../../src/config.ts';
import { createSourceSchema } from '../../src/source/schema.ts';
import { type GenerateOptions, generatePricingPlatform, type Truth } from '../../src/synth/pricing-platform.ts';

export interface SourceDb {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database with a profile's source schema, on the run's embedded PostgreSQL. */
export async function createSourceDb(profile: ProfileName = 'pricing-platform'): Promise<SourceDb> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 4, options: '-c TimeZone=UTC' });
  await createSourceSchema(pool, profile);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client(adminUrl);
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A scratch directory for a suite's DuckDB file. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'pricecast-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A fresh pricing-platform source database filled by the project's generator; its ground truth with it. */
export async function generatedSource(opts: GenerateOptions): Promise<{ db: SourceDb; truth: Truth }> {
  const db = await createSourceDb('pricing-platform');
  const client = await db.pool.connect();
  try {
    return { db, truth: await generatePricingPlatform(client, opts) };
  } finally {
    client.release();
  }
}
