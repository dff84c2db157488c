import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { ProfileName } from '../../src/config.ts';
import { createSourceSchema } from '../../src/source/schema.ts';
import { GENERATORS } from '../../src/synth/generators.ts';
import { type GenerateOptions, generatePricingPlatform, type Truth } from '../../src/synth/pricing-platform.ts';
import type { ProfileGenerateOptions, ProfileTruth } from '../../src/synth/profile-generator.ts';

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

/**
 * A fresh source database of a shipped profile, filled by its generator and analysed (a freshly
 * loaded source has no statistics, and some profile SQL plans badly without them).
 */
export async function generatedProfileSource(profile: ProfileName, opts: ProfileGenerateOptions): Promise<{ db: SourceDb; truth: ProfileTruth }> {
  const db = await createSourceDb(profile);
  const client = await db.pool.connect();
  try {
    const truth = await GENERATORS[profile](client, opts);
    await client.query('ANALYZE');
    return { db, truth };
  } finally {
    client.release();
  }
}

/**
 * md5 of each of `tables` after a profile's generator filled a fresh database (dropped after): two
 * calls with the same options must agree for the generator to be deterministic. An empty table
 * digests to null. (Tables the fixture DDL seeds itself, with random ids, are not the generator's.)
 */
export async function generatorDigest(profile: ProfileName, opts: ProfileGenerateOptions, names: string[]): Promise<{ truth: ProfileTruth; tables: Record<string, string | null> }> {
  const { db, truth } = await generatedProfileSource(profile, opts);
  try {
    const tables: Record<string, string | null> = {};
    for (const t of names) tables[t] = (await db.pool.query<{ h: string | null }>(`SELECT md5(string_agg(x::text, '|' ORDER BY x::text COLLATE "C")) AS h FROM "${t}" x`)).rows[0]!.h;
    return { truth, tables };
  } finally {
    await db.drop();
  }
}
