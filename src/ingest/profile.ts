import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { ANALYSES, type Analysis } from './capabilities.ts';
import { ENTITIES, type EntitySpec } from './entities.ts';
import { queryColumns } from './pull.ts';

/** One entity of a profile: the canonical spec and the source SELECT that feeds it. */
export interface ProfileEntity {
  spec: EntitySpec;
  /** SELECT returning tenant_id, the canonical columns and `_cursor_ts`, placeholders filled in. */
  sql: string;
}

/**
 * `manifest.json` beside a profile's SQL files. `tenant: "column"` says the SQL reads each row's tenant
 * from the source (b2b-distribution's distributor_id) instead of the configured TENANT_ID. `without`
 * names analyses the entities would suggest but the source cannot support, each with the reason the
 * API gives (e.g. a SQL file that can only return NULL for the column an analysis needs).
 */
export const manifestSchema = z.object({
  seed: z.string().nullable().default(null),
  description: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').nullable().default(null),
  tenant: z.enum(['config', 'column']).default('config'),
  without: z.partialRecord(z.enum(Object.keys(ANALYSES) as [Analysis, ...Analysis[]]), z.string().min(1)).default({}),
});
export type Manifest = z.infer<typeof manifestSchema>;

export interface Profile {
  name: string;
  dir: string;
  manifest: Manifest;
  entities: ProfileEntity[];
}

export interface ProfileParams {
  tenantId: string;
  currency: string;
}

export const SHIPPED_PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

/** Where the configured profile lives: PROFILE_DIR (a user's own) or the shipped PROFILE. */
export function profileLocation(config: Pick<Config, 'PROFILE' | 'PROFILE_DIR'>): { name: string; dir: string } {
  if (config.PROFILE_DIR) {
    const dir = resolve(config.PROFILE_DIR);
    return { name: basename(dir), dir };
  }
  return { name: config.PROFILE, dir: join(SHIPPED_PROFILES_DIR, config.PROFILE) };
}

/** Reads and checks a profile's manifest; throws a message naming the file and every problem. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`${file} is missing (see README, "Writing your own profile")`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * Loads `<dir>/<entity>.sql` for every file present. The SQL may use `{{tenant}}` and `{{currency}}`,
 * replaced by quoted literals (COPY cannot take bind parameters). Entities load in dependency-free
 * order: dimensions first, so a crash between entities leaves facts no newer than their dimensions.
 */
export function loadProfile(location: { name: string; dir: string }, params: ProfileParams): Profile {
  const { name, dir } = location;
  const manifest = readManifest(dir);
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  if (files.length === 0) throw new Error(`profile ${name} has no entity SQL files in ${dir}`);
  const order = Object.keys(ENTITIES);
  const entities = files
    .map((f) => f.replace(/\.sql$/, ''))
    .map((entity) => {
      const spec = ENTITIES[entity];
      if (!spec) throw new Error(`profile ${name}: ${entity}.sql names no canonical entity (known: ${order.join(', ')})`);
      const raw = readFileSync(join(dir, `${entity}.sql`), 'utf8');
      const sql = raw
        .replaceAll('{{tenant}}', pg.escapeLiteral(params.tenantId))
        .replaceAll('{{currency}}', pg.escapeLiteral(params.currency))
        .trim()
        .replace(/;\s*$/, '');
      return { spec, sql };
    })
    .sort((a, b) => order.indexOf(a.spec.entity) - order.indexOf(b.spec.entity));
  return { name, dir, manifest, entities };
}

/** The configured profile, its placeholders filled from the configuration. */
export function configuredProfile(config: Pick<Config, 'PROFILE' | 'PROFILE_DIR' | 'TENANT_ID' | 'DEFAULT_CURRENCY'>): Profile {
  return loadProfile(profileLocation(config), { tenantId: config.TENANT_ID, currency: config.DEFAULT_CURRENCY });
}

/** The columns every entity SQL must return besides the entity's canonical ones. */
const BOOKKEEPING = ['tenant_id', '_cursor_ts'];

export class ProfileColumnsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Profile SQL does not return the columns pricecast needs:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Checks, without reading a row, that each entity's SQL runs on the source and returns every canonical
 * column of its entity plus tenant_id and _cursor_ts. Throws one ProfileColumnsError naming each
 * entity and column at fault (and each SQL that does not run, with PostgreSQL's message).
 */
export async function checkProfileColumns(pool: pg.Pool, profile: Profile): Promise<void> {
  const problems: string[] = [];
  for (const { spec, sql } of profile.entities) {
    let columns: string[];
    try {
      columns = await queryColumns(pool, sql);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Not a problem of the SQL (the source is down, say): let the caller decide.
      if (!code || !/^(42|22)/.test(code)) throw err;
      problems.push(`entity ${spec.entity} (${spec.entity}.sql): the SQL fails on the source: ${(err as Error).message}`);
      continue;
    }
    for (const column of [...BOOKKEEPING, ...spec.columns.map((c) => c.name)]) {
      if (!columns.includes(column)) problems.push(`entity ${spec.entity} (${spec.entity}.sql): no column "${column}" (return NULL AS ${column} if the source has none)`);
    }
  }
  if (problems.length > 0) throw new ProfileColumnsError(problems.map((p) => `profile ${profile.name}: ${p}`));
}
