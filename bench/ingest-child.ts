// One ingest in its own process, so its peak RSS (DuckDB's native memory included) is measured alone.
// argv: <mode full|incremental|incremental-warm> ; env: SOURCE_DATABASE_URL, DUCKDB_PATH, ...
// incremental-warm: change 0.01% of the payments and ingest them (not measured), then 1% (measured);
// with BENCH_CHANGE=every, of every table's rows instead of the payments'.
import { existsSync, statSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { ingestAll } from '../src/ingest/run.ts';
import { refreshRollups } from '../src/models/kpis/rollups.ts';
import { openSourcePool } from '../src/service.ts';
import { Warehouse } from '../src/warehouse/warehouse.ts';
import { flushWrites } from './flush.ts';
import { changeEveryTable, changePayments } from './source-changes.ts';

const warmUp = process.argv[2] === 'incremental-warm';
const mode = process.argv[2] === 'incremental' || warmUp ? 'incremental' : 'full';
const config = loadConfig();
const warehouse = await Warehouse.fromConfig(config);
const source = openSourcePool(config.SOURCE_DATABASE_URL!);
if (warmUp) {
  const change = process.env.BENCH_CHANGE === 'every' ? changeEveryTable : changePayments;
  await change(source, 0.0001);
  await ingestAll({ config, warehouse, source }, { mode });
  await refreshRollups(warehouse);
  await change(source, 0.01);
  flushWrites();
}
const t0 = performance.now();
const summary = await ingestAll({ config, warehouse, source }, { mode });
const tIngest = performance.now();
const rollups = await refreshRollups(warehouse, { full: mode === 'full' });
const tDone = performance.now();
// What the run left in the WAL, and what writing it into the file costs (DuckDB does it once the WAL
// passes DUCKDB_CHECKPOINT_THRESHOLD, or at close): reported beside the run, not hidden in it.
const walBytes = existsSync(`${config.DUCKDB_PATH}.wal`) ? statSync(`${config.DUCKDB_PATH}.wal`).size : 0;
const tCheckpoint = performance.now();
await warehouse.checkpoint();
const checkpointMs = performance.now() - tCheckpoint;
// The summing rollups' appended rows are merged daily (or past a share of the table): its cost, apart.
let compactMs = 0;
if (mode === 'incremental') {
  const tCompact = performance.now();
  await refreshRollups(warehouse, { compact: true });
  await warehouse.checkpoint();
  compactMs = performance.now() - tCompact;
}
await warehouse.close();
await source.end();
process.stdout.write(JSON.stringify({
  mode,
  rowsIn: summary.rowsIn,
  ingestMs: tIngest - t0,
  rollupMs: tDone - tIngest,
  totalMs: tDone - t0,
  entities: summary.entities.map((e) => ({ entity: e.entity, rows: e.rowsIn, ms: e.ms, ...e.timings })),
  rollupDays: rollups.days,
  walBytes,
  checkpointMs,
  compactMs,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
}) + '\n');
