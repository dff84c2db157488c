/**
 * Model timings (also the last section of `npm run bench`; alone: `npm run bench:models`):
 *   - revenue forecasts for 100 daily series (every candidate backtested, intervals, coverage) against
 *     the seasonal naive candidate alone on the same series, and how the cost grows with history;
 *   - price recommendations for 10,000 products (own fit, pooling, optimum, guardrails) and how the
 *     cost grows with history;
 *   - A/B test results for 100 experiments × 1M units (and 100 × 100k, to show the growth) against
 *     the bare GROUP BY of the arms' counts and sums over the same table;
 *   - the customers job for 1M customers (and 100k) against the GROUP BY that summarises their orders.
 * Synthetic inputs from a seeded generator; prints figures, asserts nothing.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Config, loadConfig } from '../src/config.ts';
import { customerOptions, experimentOptions } from '../src/jobs/definitions.ts';
import { purchasesSql, runCustomers, summarySql } from '../src/models/customers/run-customers.ts';
import { computeExperiments } from '../src/models/experiments/run-experiments.ts';
import { Warehouse } from '../src/warehouse/warehouse.ts';
import { forecastSeries } from '../src/models/forecast/forecast.ts';
import { type DayObservation, estimateElasticity, poolElasticities } from '../src/models/pricing/elasticity.ts';
import { DEFAULT_SETTINGS, recommend } from '../src/models/pricing/recommend.ts';
import { beta, exponential, gamma, normal, poisson, Rng } from '../src/synth/random.ts';


function revenueSeries(days: number, seed: number): number[] {
  const rng = new Rng(seed);
  const r = () => rng.next();
  const week = [0.8, 0.9, 1.0, 1.05, 1.1, 1.35, 0.8];
  const level = 500 + 5000 * r();
  return Array.from({ length: days }, (_, t) => Math.max(0, level * (1 + 0.001 * t) * week[t % 7]! * (1 + 0.1 * normal(rng))));
}

function productDays(days: number, seed: number): DayObservation[] {
  const rng = new Rng(seed);
  const r = () => rng.next();
  const e = -1 - 2 * r();
  const rate = 0.3 + 4 * r();
  let price = 10 + 90 * r();
  const base = price;
  return Array.from({ length: days }, (_, t) => {
    if (r() < 0.01) price = base * (0.8 + 0.4 * r());
    return { t, dow: t % 7, price, units: poisson(rng, rate * (price / base) ** e) };
  });
}

const secs = (ms: number) => (ms / 1000).toFixed(2);

export async function benchModels(): Promise<void> {
  console.log('\n## Models');
  const ctx = { startDay: 20000, holidays: new Set<number>() };
  const timeForecasts = (days: number, candidates?: ('seasonal_naive')[]) => {
    const series = Array.from({ length: 100 }, (_, i) => revenueSeries(days, i + 1));
    const t = performance.now();
    for (const y of series) forecastSeries(y, ctx, { horizon: 90, levels: [0.8, 0.95], candidates });
    return performance.now() - t;
  };
  const naive = timeForecasts(365, ['seasonal_naive']);
  const full365 = timeForecasts(365);
  const full730 = timeForecasts(730);
  console.log(`forecasts, 100 series × 365 days, horizon 90: ${secs(full365)} s (${(full365 / 100).toFixed(0)} ms a series; ${(full365 / naive).toFixed(1)}x the seasonal naive candidate alone, ${secs(naive)} s)`);
  console.log(`forecasts, 100 series × 730 days:            ${secs(full730)} s (${(full730 / full365).toFixed(2)}x for twice the history: the backtest keeps 40 origins, each fit is linear in the history)`);

  const timePricing = (days: number) => {
    const products = Array.from({ length: 10_000 }, (_, i) => ({ key: i, category: `c${i % 20}`, days: productDays(days, i + 1) }));
    const t = performance.now();
    const raws = products.map((p) => ({ key: p.key, category: p.category, raw: estimateElasticity(p.days) }));
    const pooled = poolElasticities(raws);
    for (const p of products) {
      recommend({
        currentPrice: p.days[days - 1]!.price, basePrice: p.days[0]!.price, unitCost: p.days[0]!.price * 0.5, inventory: 100, reorderPoint: 10,
        unitsPerDay: 1, elasticity: pooled.get(p.key)!, signals: { views: 0.05, cartAdds: null, conversion: null },
      }, DEFAULT_SETTINGS);
    }
    return performance.now() - t;
  };
  const p365 = timePricing(365);
  const p730 = timePricing(730);
  console.log(`pricing, 10,000 products × 365 days: ${secs(p365)} s (${(p365 / 10_000).toFixed(2)} ms a product: Poisson fit, pooling, optimum, guardrails)`);
  console.log(`pricing, 10,000 products × 730 days: ${secs(p730)} s (${(p730 / p365).toFixed(2)}x for twice the history: each fit is linear in the days)`);
  for (const units of [100_000, 1_000_000]) await benchExperiments(100, units);
  for (const customers of [100_000, 1_000_000]) await benchCustomers(customers);
}

/**
 * `customers` BG/NBD customers (r 0.5, α 30 days, a 0.8, b 3; born over two years) with their orders
 * loaded straight into a warehouse, then the customers job timed against the GROUP BY that builds
 * their purchase summaries alone.
 */
export async function benchCustomers(customers: number): Promise<void> {
  await withScratchWarehouse('cust', async (dir, config, wh) => {
    const rng = new Rng(2026, 0xc5);
    const end = Date.parse('2026-11-01T00:00:00Z');
    const csv = join(dir, 'orders.csv');
    const out = createWriteStream(csv);
    let orders = 0;
    let lines: string[] = [];
    const flush = async () => {
      if (!out.write(lines.join(''))) await new Promise<void>((r) => out.once('drain', () => r()));
      lines = [];
    };
    for (let i = 0; i < customers; i++) {
      const lambda = gamma(rng, 0.5, 30);
      const p = beta(rng, 0.8, 3);
      const born = 730 * rng.next();
      const spend = 20 + 80 * rng.next();
      let t = born;
      for (let k = 0; ; k++) {
        if (k > 1 && rng.next() < p) break;
        lines.push(`o${orders++},c${i},${(spend * (0.5 + rng.next())).toFixed(2)},${new Date(end - (730 - t) * 86_400_000).toISOString()}\n`);
        t += exponential(rng, lambda);
        if (t >= 730) break;
      }
      if (lines.length > 10_000) await flush();
    }
    await flush();
    await new Promise<void>((r) => out.end(() => r()));
    await wh.withWriter(async (c) => {
      await c.run(`INSERT INTO orders (tenant_id, order_id, customer_id, status, total, currency, created_at, _key)
        SELECT 'default', o, c, 'paid', v, 'USD', ts::TIMESTAMP, hash(o) FROM read_csv('${csv}', header = false, columns = {'o': 'VARCHAR', 'c': 'VARCHAR', 'v': 'DECIMAL(18,2)', 'ts': 'VARCHAR'})`);
      await c.run(`INSERT INTO kpi_rollup_state VALUES (1, now()::TIMESTAMP, TIMESTAMP '2026-11-01 00:00:00', 0, true)`);
    });
    const tBase = performance.now();
    await wh.query(`SELECT count(*) FROM (${summarySql(purchasesSql(`DATE '2026-10-31'`), `DATE '2026-10-31'`)})`);
    const baseMs = performance.now() - tBase;
    const t = performance.now();
    const r = await runCustomers(wh, customerOptions(config));
    const ms = performance.now() - t;
    const [run] = await wh.query<{ errors: string; clv: number | null }>(
      `SELECT fit_errors::VARCHAR AS errors, (SELECT avg(clv) FROM customer_scores) AS clv FROM customer_model_runs`);
    if (run?.errors !== '[]' || run.clv === null) console.log(`customers job: a fit failed (${run?.errors}); CLV ${run?.clv}`);
    console.log(`customers job, ${customers.toLocaleString('en-US')} customers (${orders.toLocaleString('en-US')} orders): ${secs(ms)} s for ${r.customers.toLocaleString('en-US')} scored `
      + `(${(ms / baseMs).toFixed(1)}x the GROUP BY of their purchase summaries, ${secs(baseMs)} s; two BG/NBD fits, Gamma-Gamma, scores, CLV, holdout)`);
  });
}

/**
 * `experiments` × `units` generated straight into a warehouse's experiment_units (10% conversion,
 * revenue for converters, 50/50 split), then the experiments job's read and analysis timed against a
 * GROUP BY of the arms' counts and sums alone.
 */
export async function benchExperiments(experiments: number, units: number): Promise<void> {
  await withScratchWarehouse('exp', async (_dir, config, wh) => {
    const tGen = performance.now();
    await wh.withWriter(async (c) => {
      await c.run(`INSERT INTO experiments (tenant_id, experiment_id, name, metric, status, variants, started_at, _key)
        SELECT 'default', 'exp' || i, 'experiment ' || i, 'conversion', 'completed', '{"A": {}, "B": {}}', TIMESTAMP '2026-01-01', i
        FROM range(${experiments}) t(i)`);
      await c.run(`INSERT INTO experiment_units (tenant_id, experiment_id, unit_id, variant, converted, revenue, ts, _key)
        SELECT 'default', 'exp' || (i // ${units}), 'u' || (i % ${units}), CASE WHEN random() < 0.5 THEN 'A' ELSE 'B' END, c,
               CASE WHEN c THEN round(20 + 60 * random(), 2) ELSE 0 END, TIMESTAMP '2026-01-01' + to_seconds(i % 2592000), i
        FROM (SELECT i, random() < 0.1 AS c FROM range(${experiments * units}) t(i))`);
    });
    const genMs = performance.now() - tGen;
    const tBase = performance.now();
    await wh.query(`SELECT experiment_id, variant, count(*), count(*) FILTER (WHERE converted), sum(revenue::DOUBLE), sum(revenue::DOUBLE ^ 2)
      FROM experiment_units GROUP BY ALL`);
    const baseMs = performance.now() - tBase;
    const t = performance.now();
    const results = await computeExperiments(wh, experimentOptions(config));
    const ms = performance.now() - t;
    console.log(`experiments, ${experiments} × ${units.toLocaleString('en-US')} units: ${secs(ms)} s for ${results.length} results `
      + `(${(ms / baseMs).toFixed(1)}x the bare GROUP BY of counts and sums, ${secs(baseMs)} s; generating the units took ${secs(genMs)} s)`);
  });
}

/** A warehouse in a temporary directory for one measurement, closed and removed after it. */
async function withScratchWarehouse(tag: string, fn: (dir: string, config: Config, wh: Warehouse) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `pricecast-bench-${tag}-`));
  try {
    const config = loadConfig({ DUCKDB_PATH: join(dir, 'w.duckdb') });
    const wh = await Warehouse.fromConfig(config);
    try {
      await fn(dir, config, wh);
    } finally {
      await wh.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchModels();
