import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { parseCsv } from '../../src/api/csv.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { experimentOptions } from '../../src/jobs/definitions.ts';
import { runExperiments } from '../../src/models/experiments/run-experiments.ts';
import type { Truth } from '../../src/synth/pricing-platform.ts';
import { generatedSource, type SourceDb } from '../helpers/source-db.ts';
import { loadThroughIngest } from '../helpers/through-ingest.ts';
import { serveApi } from '../helpers/api.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * A/B tests end to end on generated seed-004 data with known true effects: PostgreSQL → ingest →
 * experiments job → HTTP, arm figures checked against SQL on the source.
 */
describe('experiments end to end', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let truth: Truth;
  const mine = generateApiKey('default', ['read']);
  const other = generateApiKey('other-shop', ['read']);

  const get = (path: string, key = mine.key) => http.get(path, key);

  type Interval = { lo: number; hi: number };
  type Summary = {
    experiment_id: string; name: string; status: string; units: number; multi_arm_units: number; verdict_basis: string;
    srm: { p_value: number | null; flagged: boolean };
    arms: { variant: string; control: boolean; units: number; value: number; lift: number | null; ci: Interval | null; p_value: number | null; verdict: string | null }[];
  };

  beforeAll(async () => {
    ({ db, truth } = await generatedSource({ seed: 3, orders: 3_000, products: 20, days: 365, end: new Date('2026-09-15T00:00:00Z') }));
    tw = await openTestWarehouse(db.pool, { API_KEYS: `${mine.entry},${other.entry}` });
    await ingestAll(tw.ctx);
    await runExperiments(tw.warehouse, experimentOptions(tw.config));
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  it("serves every test with arm sizes, rates and revenue equal to SQL on the source's ab_test_results", async () => {
    const res = await get('/v1/experiments');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { run: { run_id: number }; stale: boolean; items: Summary[] };
    expect(body.items).toHaveLength(truth.experiments.length);
    const { rows } = await db.pool.query<{ test_id: string; variant: string; n: string; c: string; rev: string }>(`
      SELECT test_id::text, upper(variant) AS variant, count(*)::text AS n, count(*) FILTER (WHERE converted)::text AS c,
             sum(coalesce(revenue, 0))::text AS rev
      FROM ab_test_results GROUP BY 1, 2`);
    const { rows: tests } = await db.pool.query<{ id: string; metric: string }>(`SELECT id::text, metric FROM ab_tests`);
    for (const e of body.items) {
      const metric = tests.find((t) => t.id === e.experiment_id)!.metric;
      for (const arm of e.arms) {
        const src = rows.find((r) => r.test_id === e.experiment_id && r.variant === arm.variant)!;
        expect(arm.units).toBe(Number(src.n));
        const expected = metric === 'revenue' ? Number(src.rev) / Number(src.n) : Number(src.c) / Number(src.n);
        expect(arm.value).toBeCloseTo(expected, 10);
      }
      const [a, b] = e.arms;
      expect(a!.control).toBe(true);
      expect(b!.lift).toBeCloseTo(b!.value / a!.value - 1, 10);
      expect(e.srm.flagged).toBe(false);
      expect(e.multi_arm_units).toBe(0);
    }
  });

  it("recovers the generator's true effects: each interval covers the truth, the real conversion lift wins", async () => {
    const body = (await (await get('/v1/experiments')).json()) as { items: Summary[] };
    for (const t of truth.experiments) {
      const e = body.items.find((x) => x.experiment_id === t.id)!;
      const b = e.arms.find((a) => a.variant === 'B')!;
      const trueLift = t.metric === 'revenue' ? t.true_effect.revenue_per_unit_relative_lift : t.true_effect.conversion_relative_lift;
      expect(b.ci!.lo).toBeLessThanOrEqual(trueLift);
      expect(b.ci!.hi).toBeGreaterThanOrEqual(trueLift);
      expect(e.verdict_basis).toBe(t.status === 'running' ? 'sequential' : 'fixed_horizon');
      if (trueLift === 0) expect(b.verdict).toMatch(/^(Inconclusive|No difference detected)/);
    }
    const checkout = body.items.find((x) => x.name === 'checkout-one-page')!;
    expect(checkout.arms[1]!.verdict).toMatch(/^B beats A: \+\d+\.\d% \[\d+\.\d%, \d+\.\d%\], p (<|=) 0\.0\d+$/);
  });

  it('the detail has every metric and view, and the CSVs carry the same numbers', async () => {
    const list = (await (await get('/v1/experiments')).json()) as { items: Summary[] };
    const id = list.items[0]!.experiment_id;
    const res = await get(`/v1/experiments/${id}`);
    expect(res.status).toBe(200);
    type Detail = { experiment: { arms: { variant: string; comparisons: Record<string, { relative: { estimate: number }; sequential: { ci: Interval }; bayesian: { chance_to_win: number; chance_to_win_exact: number | null } } | null> | null; probability_best: Record<string, number> }[]; winsor_cap: number } };
    const detail = (await res.json()) as Detail;
    const b = detail.experiment.arms.find((a) => a.variant === 'B')!;
    expect(Object.keys(b.comparisons!)).toEqual(['conversion_rate', 'revenue_per_unit', 'revenue_per_unit_winsorized']);
    // The cap is the 99th percentile of the non-zero revenues, pooled over arms, as PostgreSQL computes it.
    const { rows: [cap] } = await db.pool.query<{ p: number }>(
      `SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY revenue::float8) AS p FROM ab_test_results WHERE test_id::text = $1 AND revenue > 0`, [id]);
    expect(detail.experiment.winsor_cap).toBeCloseTo(cap!.p, 6);
    const exact = b.comparisons!.conversion_rate!.bayesian;
    expect(Math.abs(exact.chance_to_win_exact! - exact.chance_to_win)).toBeLessThan(0.02);

    const csv = await get('/v1/experiments?format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [head, ...lines] = parseCsv(await csv.text());
    expect(lines).toHaveLength(list.items.reduce((s, e) => s + e.arms.length, 0));
    const lift = head!.indexOf('lift');
    const line = lines.find((l) => l[0] === id && l[head!.indexOf('variant')] === 'B')!;
    expect(Number(line[lift])).toBeCloseTo(list.items[0]!.arms[1]!.lift!, 12);
    const one = parseCsv(await (await fetch(`${http.url}/v1/experiments/${id}`, { headers: { authorization: `Bearer ${mine.key}`, accept: 'text/csv' } })).text());
    expect(one.length - 1).toBe(2 * 3 - 1 + 1); // A: 3 metrics, B: 3 metrics
  });

  it('answers 404 for an unknown experiment or another tenant, 400 for a bad parameter', async () => {
    const id = ((await (await get('/v1/experiments')).json()) as { items: Summary[] }).items[0]!.experiment_id;
    expect((await get('/v1/experiments/no-such-test')).status).toBe(404);
    expect((await get(`/v1/experiments/${id}`, other.key)).status).toBe(404);
    const otherList = (await (await get('/v1/experiments', other.key)).json()) as { items: unknown[] };
    expect(otherList.items).toEqual([]);
    const bad = await get('/v1/experiments?format=xml');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/format/);
  });

  it('flags a unit seen in two arms and leaves it out of both', async () => {
    const before = ((await (await get('/v1/experiments')).json()) as { items: Summary[] }).items[0]!;
    // One of A's units also appears in B, loaded as the ingest loads any batch.
    await loadThroughIngest(tw.warehouse, tw.config.DUCKDB_PATH.replace(/[^/]+$/, ''), 'experiment_units', `
      SELECT tenant_id, experiment_id, unit_id, 'B' AS variant, converted, revenue, ts, ts AS _cursor_ts
      FROM experiment_units WHERE experiment_id = '${before.experiment_id}' AND variant = 'A' ORDER BY unit_id LIMIT 1`);
    await runExperiments(tw.warehouse, experimentOptions(tw.config));
    const after = ((await (await get('/v1/experiments')).json()) as { items: Summary[] }).items.find((e) => e.experiment_id === before.experiment_id)!;
    expect(after.multi_arm_units).toBe(1);
    expect(after.arms[0]!.units).toBe(before.arms[0]!.units - 1);
    expect(after.arms[1]!.units).toBe(before.arms[1]!.units);
  });

  it('keeps only the newest runs it is told to', async () => {
    await runExperiments(tw.warehouse, { ...experimentOptions(tw.config), keepRuns: 1 });
    const [r] = await tw.warehouse.query<{ runs: string; orphans: string; latest: string }>(`
      SELECT (SELECT count(*) FROM experiment_runs)::VARCHAR AS runs,
             (SELECT count(*) FROM experiment_results WHERE run_id NOT IN (SELECT run_id FROM experiment_runs))::VARCHAR AS orphans,
             (SELECT count(*) FROM experiment_results)::VARCHAR AS latest`);
    expect(r).toEqual({ runs: '1', orphans: '0', latest: String(truth.experiments.length) });
    expect((await get('/v1/experiments')).status).toBe(200);
  });
});
