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
