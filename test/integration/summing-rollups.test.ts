import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/models/kpis/common.ts';
import { getCountries } from '../../src/models/kpis/get-countries.ts';
import { COMPACT_SHARE, refreshRollups } from '../../src/models/kpis/rollups.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { tempDir } from '../helpers/source-db.ts';
import { loadThroughIngest } from '../helpers/through-ingest.ts';

/*
 * The refresh appends to the per-customer and per-product payment rollups and compacts them by
 * itself once the appended rows pass COMPACT_SHARE of the rest. Sizes are chosen around the
 * thresholds: each change folds (not rebuilds), the first stays under the share, the second passes it.
 */

let dir: ReturnType<typeof tempDir>;
let wh: Warehouse;
const SUMMING = ['kpi_product_payments_15m', 'kpi_customer_15m'];

/** Payments i in [from, to): 7 minutes apart, 20,000 customers, 40 products; `status` for all. */
const payments = (from: number, to: number, status = 'succeeded') => `
  SELECT 't1' AS tenant_id, 'p' || i AS payment_id, 'db' AS source, NULL AS external_id, NULL AS order_id,
    'c' || (i % 20000) AS customer_id, 'pr' || (i % 40) AS product_id, (5 + i % 7)::DECIMAL(18,2) AS amount, 'USD' AS currency,
    '${status}' AS status, '${status}' AS raw_status, 0::DECIMAL(18,2) AS refunded_amount,
    TIMESTAMP '2026-01-01' + to_minutes(i * 7) AS created_at, NULL::TIMESTAMP AS completed_at,
    TIMESTAMP '2026-01-01' + to_minutes(i * 7) ${status === 'succeeded' ? '' : '+ INTERVAL 1 YEAR'} AS _cursor_ts
  FROM range(${from}, ${to}) t(i)`;

const appended = async (table: string) =>
  Number((await db(wh).query<{ n: string }>(`SELECT count(*) FILTER (WHERE appended) AS n FROM ${table}`))[0]!.n);

/** Per table: row count and an order-independent hash of every row. */
async function snapshot(): Promise<string[]> {
  return Promise.all(SUMMING.map(async (t) =>
    (await db(wh).query<{ h: string }>(`SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(t::VARCHAR))::VARCHAR, '') AS h FROM ${t} t`))[0]!.h));
}

/** Revenue by country against the raw payments: every customer here has no country. */
async function expectCountriesMatchFacts(): Promise<void> {
  const range = { tenantId: 't1', from: new Date('2025-12-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };
  const [raw] = await db(wh).query<{ gross: string; n: string; customers: string }>(`
    SELECT sum(amount)::VARCHAR AS gross, count(*) AS n, count(DISTINCT customer_id) AS customers FROM payments WHERE status = 'succeeded'`);
  expect(await getCountries(wh, range)).toEqual([{
    country: null, currency: 'USD', revenue_gross: Number(raw!.gross).toFixed(2), revenue_net: Number(raw!.gross).toFixed(2),
    payments: Number(raw!.n), paying_customers: Number(raw!.customers),
  }]);
}

beforeAll(async () => {
  dir = tempDir();
  wh = await Warehouse.open({ path: join(dir.path, 'summing.duckdb') });
});

afterAll(async () => {
  await wh?.close();
  dir?.remove();
});

describe('summing rollups', () => {
  it('take appended sums that readers add up, and compact themselves once those pass their share', async () => {
    await loadThroughIngest(wh, dir.path, 'payments', payments(0, 60_000));
    await refreshRollups(wh);
    for (const t of SUMMING) expect(await appended(t)).toBe(0);

    // 12,000 new payments: folded, appended, 12,000 < COMPACT_SHARE of the 60,000 rows before.
    await loadThroughIngest(wh, dir.path, 'payments', payments(60_000, 72_000));
    const first = await refreshRollups(wh);
    expect(first.compacted).toEqual([]);
    for (const t of SUMMING) expect(await appended(t)).toBe(12_000);
    expect(12_000).toBeLessThan(COMPACT_SHARE * 60_000);
    await expectCountriesMatchFacts();

    // 7,000 of the first payments fail: their rows get −1 sums that cancel them. 19,000 appended
    // rows now pass the share, so this refresh compacts both tables.
    await loadThroughIngest(wh, dir.path, 'payments', payments(0, 7_000, 'failed'));
    const second = await refreshRollups(wh);
    expect(second.compacted).toEqual(SUMMING);
    for (const t of SUMMING) expect(await appended(t)).toBe(0);
    await expectCountriesMatchFacts();

    // Compacted, each table holds exactly what a rebuild from the facts writes.
    const compacted = await snapshot();
    await refreshRollups(wh, { full: true });
    expect(compacted).toEqual(await snapshot());
  });
});
