import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { ProfileName } from '../config.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Path of a profile's fixture DDL, written from its seed schema. */
export function fixtureSchemaPath(profile: ProfileName): string {
  return `${root}test/fixtures/schemas/${profile}.sql`;
}

/** Creates a profile's source schema in the connected database (demo, tests, bench). */
export async function createSourceSchema(client: pg.ClientBase | pg.Pool, profile: ProfileName): Promise<void> {
  await client.query(await readFile(fixtureSchemaPath(profile), 'utf8'));
}
