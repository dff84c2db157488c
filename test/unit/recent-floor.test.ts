import { describe, expect, it } from 'vitest';
import { recentFloorSql } from '../../src/ingest/merge-sql.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';

/** `ts` less `minutes`, in DuckDB's TIMESTAMP text, computed with Date arithmetic. */
const minus = (ts: string, minutes: number) => new Date(Date.parse(`${ts.replace(' ', 'T')}Z`) - minutes * 60_000).toISOString().replace('T', ' ').replace(/\.000Z$/, '').replace('Z', '');

describe('the start of the lookback window a batch records in ingest_recent', () => {
  it('is the later of the batch\'s newest cursor and the stored watermark, less the lookback; null when neither is known', async () => {
    const wh = await Warehouse.open({ path: ':memory:' });
    const floor = (batchMax: string | null, entity = 'payments') =>
      wh.query<{ floor: string | null }>(recentFloorSql(10), { source: 's', entity, batch_max: batchMax }).then((r) => r[0]!.floor);
    expect(await floor(null)).toBeNull();
    expect(await floor('2026-03-01 12:00:00')).toBe(minus('2026-03-01 12:00:00', 10));
    await wh.withWriter((c) => c.run(`INSERT INTO ingest_state (source, entity, watermark_ts, updated_at) VALUES ('s', 'payments', '2026-03-02 00:00:05.25', now()::TIMESTAMP)`));
    expect(await floor(null)).toBe('2026-03-01 23:50:05.25');
    expect(await floor('2026-03-01 12:00:00')).toBe('2026-03-01 23:50:05.25');
    expect(await floor('2026-03-05 00:00:00')).toBe(minus('2026-03-05 00:00:00', 10));
    // Another entity's watermark is not this one's.
    expect(await floor(null, 'orders')).toBeNull();
    await wh.close();
  });
});
