import { afterAll, beforeAll } from 'vitest';
import type pg from 'pg';
import { loadConfig, type Config } from '../../src/config.ts';
import type { IngestContext } from '../../src/ingest/run.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { tempDir } from './source-db.ts';

/** A fresh DuckDB file and the ingest context over a source pool, as the service would build them. */
export async function openTestWarehouse(source: pg.Pool, env: Record<string, string> = {}): Promise<{
  config: Config;
  warehouse: Warehouse;
  ctx: IngestContext;
  close(): Promise<void>;
}> {
  const dir = tempDir();
  const config = loadConfig({ DUCKDB_PATH: `${dir.path}/warehouse.duckdb`, DUCKDB_MEMORY_LIMIT: '512MB', ...env }, {});
  const warehouse = await Warehouse.open({ path: config.DUCKDB_PATH, memoryLimit: config.DUCKDB_MEMORY_LIMIT, threads: 1 });
  return {
    config,
    warehouse,
    ctx: { config, warehouse, source },
    async close() {
      await warehouse.close();
      dir.remove();
    },
  };
}

/**
 * A scratch warehouse for one suite: opened before its tests, closed and removed after them.
 * `scratch.wh` is valid inside tests and hooks.
 */
export function useScratchWarehouse(): { readonly wh: Warehouse; readonly dir: string } {
  const dir = tempDir();
  let wh: Warehouse | undefined;
  beforeAll(async () => {
    wh = await Warehouse.open({ path: `${dir.path}/w.duckdb`, threads: 1 });
  });
  afterAll(async () => {
    await wh?.close();
    dir.remove();
  });
  return {
    get wh() {
      if (!wh) throw new Error('scratch warehouse is used outside a test');
      return wh;
    },
    dir: dir.path,
  };
}
