import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ProfileName } from '../config.ts';
import { ENTITIES, type EntitySpec } from './entities.ts';

/** One entity of a profile: the canonical spec and the source SELECT that feeds it. */
export interface ProfileEntity {
  spec: EntitySpec;
  /** SELECT returning tenant_id, the canonical columns and `_cursor_ts`, placeholders filled in. */
  sql: string;
}

export interface Profile {
  name: ProfileName;
  entities: ProfileEntity[];
}

export interface ProfileParams {
  tenantId: string;
  currency: string;
}

const profilesDir = fileURLToPath(new URL('./profiles/', import.meta.url));

/**
 * Loads `profiles/<name>/<entity>.sql`. The SQL may use `{{tenant}}` and `{{currency}}`, replaced by
 * quoted literals (COPY cannot take bind parameters). Entities load in dependency-free order:
 * dimensions first, so a crash between entities leaves facts no newer than their dimensions.
 */
export function loadProfile(name: ProfileName, params: ProfileParams, dir = profilesDir): Profile {
  const files = readdirSync(`${dir}${name}`).filter((f) => f.endsWith('.sql'));
  if (files.length === 0) throw new Error(`profile ${name} has no entity SQL files in ${dir}${name}`);
  const order = Object.keys(ENTITIES);
  const entities = files
    .map((f) => f.replace(/\.sql$/, ''))
    .map((entity) => {
      const spec = ENTITIES[entity];
      if (!spec) throw new Error(`profile ${name}: ${entity}.sql names no canonical entity (known: ${order.join(', ')})`);
      const raw = readFileSync(`${dir}${name}/${entity}.sql`, 'utf8');
      const sql = raw
        .replaceAll('{{tenant}}', pg.escapeLiteral(params.tenantId))
        .replaceAll('{{currency}}', pg.escapeLiteral(params.currency))
        .trim()
        .replace(/;\s*$/, '');
      return { spec, sql };
    })
    .sort((a, b) => order.indexOf(a.spec.entity) - order.indexOf(b.spec.entity));
  return { name, entities };
}
