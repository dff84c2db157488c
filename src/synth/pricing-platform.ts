/**
 * Deterministic synthetic history for the `pricing-platform` profile (seed 004), loaded with
 * streaming COPY into a database that already has `test/fixtures/schemas/pricing-platform.sql`.
 * It is the ground truth for the pricing, forecast, experiment and customer models: every true
 * parameter is returned as `Truth` (and `writeTruth` saves it as JSON).
 *
 * Generative model (details in each module):
 * - calendar.ts   — intensity m(t) = trend × weekly × hourly; purchases live in operational time.
 * - catalog.ts    — products, true elasticities, price periods, daily choice weights.
 * - customers.ts  — BG/NBD customers; one product per order chosen ∝ attractiveness × (p/base)^ε.
 * - orders-scan.ts— first pass: fixes the customer count for the order target, accumulates rollups.
 * - traffic.ts, subscriptions.ts, experiments.ts — the neighbouring tables.
 *
 * Determinism: ids and times come only from seeded streams; the same (seed, orders, products, days,
 * end) produces byte-identical tables. Memory is O(products × days + customers sampled), never
 * O(orders): users, orders and payments are each streamed in their own pass that regenerates the
 * customers from their seeds.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type pg from 'pg';
import {
  Calendar,
  DAY_MS,
  HOURLY_PROFILE,
  TREND_GROWTH_PER_YEAR,
  WEEKDAY_NAMES,
  WEEKLY_FACTORS,
  formatDate,
  formatTimestamp,
  isoString,
} from './calendar.js';
import { CATEGORIES, ELASTICITY_CAP, FLAT_PRICE_SHARE, PRICE_FACTOR_RANGE, PRODUCT_ELASTICITY_SD, buildCatalog, type Catalog } from './catalog.js';
import { copyRows, csvRow, formatCents } from './copy.js';
import {
  BGNBD,
  COUNTRIES,
  COUNTRY_WEIGHTS,
  CustomerSimulator,
  ORDER_STATUSES,
  OS_CANCELLED,
  OS_PENDING,
  PASSWORD_STRENGTHS,
  STATUS_MODEL,
  STREAM_CUSTOMER_DETAIL,
  STREAM_ORDER_DETAIL,
  type BgNbdParams,
} from './customers.js';
import { AB_TEST_STATUSES, buildExperiments, type ExperimentTruth } from './experiments.js';
import { CONVERSION_SOURCES, scanOrders, type CustomerTruth, type ScanResult } from './orders-scan.js';
import { Rng, base62, uuid, uuidFromWords } from './random.js';
import { PAST_DUE_PROBABILITY, SUBSCRIPTION_STATUSES, buildPlans, planRows, subscriptionCount, subscriptionRows, type SubscriptionTally } from './subscriptions.js';
import { PAGE_MODEL, computeTraffic, pageViewRows, productMetricRows } from './traffic.js';

export interface GenerateOptions {
  seed?: number;
  /** Target number of orders (all statuses); the realised count overshoots by at most one customer's orders. */
  orders?: number;
  products?: number;
  /** History length in days. */
  days?: number;
  /** Exclusive end of history (UTC midnight); default: today's UTC midnight. */
  end?: Date;
  experiments?: boolean;
}

const STREAM_ROLLUPS = 0x2011;

/**
 * Everything true about the generated data. All times are ISO-8601 UTC strings; money is in dollars
 * (numbers with ≤ 2 decimals); day/hour conventions are UTC.
 *
 * ```
 * {
 *   generator: 'pricing-platform', version: 1,
 *   seed, options: {seed, orders, products, days, end, experiments},
 *   start, end,                                   // history [start, end)
 *   status_vocabularies: { orders, payments, subscriptions, ab_tests, user_behavior_actions,
 *                          conversion_stages, conversion_sources, page_paths, password_strengths },
 *   status_model: { cancelled_probability, refunded_probability, pending_window_days,
 *                   pending_probability, failed_attempt_probability, repeat_failure_probability },
 *   intensity: { formula, weekly_factors: {sun..sat}, hourly_profile[24], trend: {type, growth_per_year, reference} },
 *   customers: { model: 'BG/NBD', r, alpha, a, b, time_unit, births, first_purchase_at_birth, countries,
 *                count, dropped_by_end, per_customer: [{id, lambda, p, birth, dropped_at, orders}] | null },
 *   demand: { choice_model, elasticity_sd, elasticity_cap, price_factor_range, flat_price_share },
 *   categories: [{ name, mean_elasticity, price_range }],
 *   products: [{ id, name, category, base_price, base_cost, elasticity, attractiveness, views_per_unit,
 *                cart_add_rate, current_price, price_periods: [{ from, price }] }],
 *   traffic: { views_formula, cart_adds_formula, page_model },
 *   subscription_plans: [{ id, name, price, currency, interval, stripe_price_id, cancel_at_renewal, monthly_hazard, mix }],
 *   subscriptions: { count, by_status, by_plan, past_due_probability, start_rule },
 *   experiments: [{ id, name, metric, status, start, end, units, variants: {A, B}, true_effect, realised }],
 *   tables: { <table>: rows written },
 *   realised: { orders, orders_by_status, payments_by_status, payment_rows, revenue, units,
 *               customers, users, revenue_daily_definition, units_definition }
 * }
 * ```
 */
export interface Truth {
  generator: 'pricing-platform';
  version: 1;
  seed: number;
  options: { seed: number; orders: number; products: number; days: number; end: string; experiments: boolean };
  start: string;
  end: string;
  status_vocabularies: {
    orders: readonly string[];
    payments: readonly string[];
    subscriptions: readonly string[];
    ab_tests: readonly string[];
    user_behavior_actions: readonly string[];
    conversion_stages: readonly string[];
    conversion_sources: readonly string[];
    page_paths: readonly string[];
    password_strengths: readonly string[];
  };
  status_model: {
    cancelled_probability: number;
    refunded_probability: number;
    pending_window_days: number;
    pending_probability: number;
    failed_attempt_probability: number;
    repeat_failure_probability: number;
  };
  intensity: {
    formula: string;
    weekly_factors: Record<string, number>;
    hourly_profile: number[];
    trend: { type: 'linear'; growth_per_year: number; reference: string };
  };
  customers: BgNbdParams & {
    model: 'BG/NBD';
    time_unit: string;
    births: string;
    first_purchase_at_birth: true;
    countries: Record<string, number>;
    count: number;
    dropped_by_end: number;
    per_customer: CustomerTruth[] | null;
  };
  demand: {
    choice_model: string;
    elasticity_sd: number;
    elasticity_cap: number;
    price_factor_range: [number, number];
    flat_price_share: number;
  };
  categories: Array<{ name: string; mean_elasticity: number; price_range: [number, number] }>;
  products: Array<{
    id: string;
    name: string;
    category: string;
    base_price: number;
    base_cost: number;
    elasticity: number;
    attractiveness: number;
    views_per_unit: number;
    cart_add_rate: number;
    current_price: number;
    price_periods: Array<{ from: string; price: number }>;
  }>;
  traffic: { views_formula: string; cart_adds_formula: string; page_model: Record<string, number> };
  subscription_plans: Array<{
    id: string;
    name: string;
    price: number;
    currency: string;
    interval: string;
    stripe_price_id: string;
    cancel_at_renewal: number;
    monthly_hazard: number;
    mix: number;
  }>;
  subscriptions: {
    count: number;
    by_status: Record<string, number>;
    by_plan: Record<string, number>;
    past_due_probability: number;
    start_rule: string;
  };
  experiments: ExperimentTruth[];
  tables: Record<string, number>;
  realised: {
    orders: number;
    orders_by_status: Record<string, number>;
    payments_by_status: Record<string, number>;
    payment_rows: number;
    revenue: number;
    units: number;
    customers: number;
    users: number;
    revenue_daily_definition: string;
    units_definition: string;
  };
}

function utcMidnight(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

const PAYMENT_STATUS_BY_ORDER = ['completed', '', 'refunded', 'pending'] as const;

function userIdOf(sim: CustomerSimulator): string {
  return uuidFromWords(sim.idWords[0]!, sim.idWords[1]!, sim.idWords[2]!, sim.idWords[3]!);
}

function* productRows(catalog: Catalog, scan: ScanResult, cal: Calendar): Generator<string> {
  const days = cal.days;
  for (const p of catalog.products) {
    let sales = 0;
    for (let d = 0; d < days; d++) sales += scan.units[p.index * days + d]!;
    const last = p.periods[p.periods.length - 1]!;
    const lastUpdate = p.periods.length > 1 ? cal.dayStartMs(last.fromDay) : p.createdAtMs;
    yield csvRow([
      p.id,
      p.name,
      p.description,
      formatCents(p.basePriceCents),
      formatCents(p.baseCostCents),
      formatCents(last.priceCents),
      p.inventoryCount,
      p.reorderPoint,
      sales,
      JSON.stringify(p.pricingFactors),
      formatTimestamp(lastUpdate),
      formatTimestamp(p.createdAtMs),
      formatTimestamp(lastUpdate),
    ]);
  }
}

function* userRows(seed: number, sim: CustomerSimulator, customers: number): Generator<string> {
  const det = new Rng(0);
  for (let i = 0; i < customers; i++) {
    sim.run(i, false);
    det.reseed(seed, STREAM_CUSTOMER_DETAIL, i);
    const created = formatTimestamp(sim.createdMs);
    // users.updated_at = created_at: profiles are never edited in this history.
    yield userIdOf(sim) + ',u' + i + '@example.test,cus_' + base62(det, 14) + ',' + COUNTRIES[sim.country] + ',' + PASSWORD_STRENGTHS[sim.passwordStrength] + ',' + created + ',' + created + '\n';
  }
}

function* orderRows(seed: number, sim: CustomerSimulator, customers: number): Generator<string> {
  const det = new Rng(0);
  for (let i = 0; i < customers; i++) {
    sim.run(i, true);
    const userId = userIdOf(sim);
    let chunk = '';
    for (let k = 0; k < sim.count; k++) {
      det.reseed(seed, STREAM_ORDER_DETAIL, i, k);
      chunk += uuid(det) + ',' + userId + ',' + formatCents(sim.priceCents[k]!) + ',' + ORDER_STATUSES[sim.status[k]!] + ',' + formatTimestamp(sim.ms[k]!) + '\n';
    }
    yield chunk;
  }
}

function* paymentRows(seed: number, sim: CustomerSimulator, catalog: Catalog, cal: Calendar, customers: number): Generator<string> {
  const det = new Rng(0);
  for (let i = 0; i < customers; i++) {
    sim.run(i, true);
    const userId = userIdOf(sim);
    let chunk = '';
    for (let k = 0; k < sim.count; k++) {
      const status = sim.status[k]!;
      if (status === OS_CANCELLED) continue;
      det.reseed(seed, STREAM_ORDER_DETAIL, i, k);
      for (let w = 0; w < 4; w++) det.nextU32(); // the order's id
      const ms = sim.ms[k]!;
      const prefix = userId + ',' + catalog.products[sim.product[k]!]!.id + ',' + formatCents(sim.priceCents[k]!) + ',USD,pi_';
      const failed = sim.failedAttempts[k]!;
      const dayStart = cal.dayStartMs(cal.dayOf(ms));
      for (let f = 0; f < failed; f++) {
        // Failed attempts precede the successful one on the same UTC day.
        const created = Math.max(dayStart + f, ms - (failed - f) * det.uniform(30, 300) * 1000);
        const failedAt = Math.min(ms - 1, created + det.uniform(1, 8) * 1000);
        chunk += uuid(det) + ',' + prefix + base62(det, 24) + ',failed,' + formatTimestamp(created) + ',,' + formatTimestamp(Math.max(created, failedAt)) + '\n';
      }
      const completed = status === OS_PENDING ? '' : formatTimestamp(ms + det.uniform(1, 30) * 1000);
      chunk += uuid(det) + ',' + prefix + base62(det, 24) + ',' + PAYMENT_STATUS_BY_ORDER[status] + ',' + formatTimestamp(ms) + ',' + completed + ',\n';
    }
    if (chunk.length > 0) yield chunk;
  }
}

function* revenueDailyRows(seed: number, cal: Calendar, scan: ScanResult): Generator<string> {
  const rng = new Rng(seed, STREAM_ROLLUPS);
  for (let d = 0; d < cal.days; d++) {
    const dayStart = cal.dayStartMs(d);
    yield uuid(rng) + ',' + formatDate(dayStart) + ',' + formatCents(scan.dayRevenueCents[d]!) + ',' + scan.dayRevenueOrders[d]! + ',' + formatTimestamp(dayStart + DAY_MS - 5 * 60_000) + '\n';
  }
}

function* revenueBreakdownRows(seed: number, cal: Calendar, catalog: Catalog, scan: ScanResult): Generator<string> {
  const rng = new Rng(seed, STREAM_ROLLUPS + 1);
  for (let m = 0; m < scan.months; m++) {
    const monthStart = scan.monthStartMs[m]!;
    const next = m + 1 < scan.months ? scan.monthStartMs[m + 1]! : cal.endMs;
    for (const p of catalog.products) {
      const cents = scan.productMonthRevenueCents[p.index * scan.months + m]!;
      yield csvRow([uuid(rng), p.id, p.category, formatCents(cents), formatDate(monthStart), formatTimestamp(Math.min(next, cal.endMs) - 5 * 60_000)]);
    }
  }
}

function* countryMetricRows(seed: number, cal: Calendar, scan: ScanResult): Generator<string> {
  const rng = new Rng(seed, STREAM_ROLLUPS + 2);
  for (let d = 0; d < cal.days; d++) {
    const ts = formatTimestamp(cal.dayStartMs(d));
    for (let c = 0; c < COUNTRIES.length; c++) {
      const x = c * cal.days + d;
      yield uuid(rng) + ',' + COUNTRIES[c] + ',' + formatCents(scan.countryDayRevenueCents[x]!) + ',' + scan.countryDayUsers[x]! + ',' + scan.countryDayConversions[x]! + ',' + ts + '\n';
    }
  }
}

export async function generatePricingPlatform(client: pg.ClientBase, opts: GenerateOptions = {}): Promise<Truth> {
  const seed = opts.seed ?? 42;
  const targetOrders = positiveInt('orders', opts.orders ?? 50_000);
  const productCount = positiveInt('products', opts.products ?? 300);
  const days = positiveInt('days', opts.days ?? 400);
  const endMs = utcMidnight(opts.end ?? new Date());
  const withExperiments = opts.experiments ?? true;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);

  await client.query("SET TimeZone = 'UTC'");
  const skipFkTriggers = await disableFkTriggersIfAllowed(client);
  try {
    return await generateAll(client, { seed, targetOrders, productCount, days, endMs, withExperiments });
  } finally {
    if (skipFkTriggers) await client.query('RESET session_replication_role');
  }
}

/**
 * Per-row foreign-key triggers halve COPY throughput (payments: 28k → 65k rows/s here). Every
 * reference this generator writes points at a row it wrote earlier, so when the role may (superuser)
 * the load runs with `session_replication_role = replica`, which skips those triggers for this
 * session only; it is reset afterwards. Other roles simply load with the checks on.
 */
async function disableFkTriggersIfAllowed(client: pg.ClientBase): Promise<boolean> {
  const res = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  if (res.rows[0]?.rolsuper !== true) return false;
  await client.query('SET session_replication_role = replica');
  return true;
}

interface ResolvedOptions {
  seed: number;
  targetOrders: number;
  productCount: number;
  days: number;
  endMs: number;
  withExperiments: boolean;
}

async function generateAll(client: pg.ClientBase, o: ResolvedOptions): Promise<Truth> {
  const { seed, targetOrders, productCount, days, endMs, withExperiments } = o;

  const cal = new Calendar(endMs, days);
  const catalog = buildCatalog(seed, productCount, days, cal.startMs);
  const sim = new CustomerSimulator(seed, cal, catalog, BGNBD);
  const scan = scanOrders(seed, cal, catalog, sim, targetOrders);
  const tables: Record<string, number> = {};
  const copy = async (table: string, columns: readonly string[], rows: Iterable<string>): Promise<void> => {
    tables[table] = (tables[table] ?? 0) + (await copyRows(client, table, columns, rows));
  };

  await copy('products', ['id', 'name', 'description', 'base_price', 'base_cost', 'current_price', 'inventory_count', 'reorder_point', 'sales_count', 'pricing_factors', 'last_price_update', 'created_at', 'updated_at'], productRows(catalog, scan, cal));
  await copy('users', ['id', 'email', 'stripe_customer_id', 'country', 'password_strength', 'created_at', 'updated_at'], userRows(seed, sim, scan.customers));
  // Chunks hold several rows each here, so count orders/payments from the scan instead.
  await copyRows(client, 'orders', ['id', 'user_id', 'total', 'status', 'created_at'], orderRows(seed, sim, scan.customers));
  tables['orders'] = scan.orders;
  await copyRows(client, 'payments', ['id', 'user_id', 'product_id', 'amount', 'currency', 'stripe_payment_id', 'status', 'created_at', 'completed_at', 'failed_at'], paymentRows(seed, sim, catalog, cal, scan.customers));
  const pays = scan.paymentsByStatus;
  tables['payments'] = pays.completed + pays.refunded + pays.pending + pays.failed;

  const traffic = computeTraffic(seed, cal, catalog, scan);
  await copy('product_metrics', ['id', 'product_id', 'views', 'sales', 'cart_adds', 'timestamp'], productMetricRows(seed, cal, catalog, scan, traffic));
  await copy('page_views', ['id', 'page', 'user_id', 'count', 'timestamp'], pageViewRows(seed, cal, catalog, scan, traffic));
  await copy('revenue_daily', ['id', 'date', 'revenue', 'orders_count', 'created_at'], revenueDailyRows(seed, cal, scan));
  await copy('revenue_breakdown', ['id', 'product_id', 'category', 'revenue', 'date', 'created_at'], revenueBreakdownRows(seed, cal, catalog, scan));
  await copy('country_metrics', ['id', 'country', 'revenue', 'users', 'conversions', 'timestamp'], countryMetricRows(seed, cal, scan));
  await copy('user_behavior', ['id', 'user_id', 'product_id', 'action', 'timestamp'], scan.behaviorRows);
  await copy('conversions', ['id', 'user_id', 'stage', 'source', 'timestamp'], scan.conversionRows);
  await copy('user_sessions', ['id', 'user_id', 'last_activity'], scan.sessionRows);

  const plans = buildPlans(seed);
  await copy('subscription_plans', ['id', 'name', 'price', 'currency', 'interval', 'stripe_price_id', 'features', 'created_at'], planRows(plans, cal.startMs - 30 * DAY_MS));
  const tally: SubscriptionTally = { count: 0, byStatus: { active: 0, cancelled: 0, past_due: 0 }, byPlan: {} };
  await copy(
    'subscriptions',
    ['id', 'user_id', 'plan_id', 'stripe_subscription_id', 'status', 'current_period_start', 'current_period_end', 'created_at', 'cancelled_at'],
    subscriptionRows(seed, cal, plans, sim, scan.customers, subscriptionCount(targetOrders), tally),
  );

  let experiments: ExperimentTruth[] = [];
  if (withExperiments) {
    const ex = buildExperiments(seed, cal);
    await copy('ab_tests', ['id', 'name', 'description', 'variant_a', 'variant_b', 'metric', 'target_users', 'status', 'created_at'], ex.testRows);
    await copy('ab_test_results', ['id', 'test_id', 'variant', 'converted', 'revenue', 'engagement_score', 'timestamp'], ex.resultRows());
    experiments = ex.truth;
  }

  return buildTruth({ seed, targetOrders, productCount, days, withExperiments, cal, catalog, scan, plans, tally, experiments, tables });
}

interface TruthInputs {
  seed: number;
  targetOrders: number;
  productCount: number;
  days: number;
  withExperiments: boolean;
  cal: Calendar;
  catalog: Catalog;
  scan: ScanResult;
  plans: ReturnType<typeof buildPlans>;
  tally: SubscriptionTally;
  experiments: ExperimentTruth[];
  tables: Record<string, number>;
}

function buildTruth(x: TruthInputs): Truth {
  const { cal, catalog, scan } = x;
  const dollars = (cents: number): number => Math.round(cents) / 100;
  const units = scan.units.reduce((s, u) => s + u, 0);
  return {
    generator: 'pricing-platform',
    version: 1,
    seed: x.seed,
    options: { seed: x.seed, orders: x.targetOrders, products: x.productCount, days: x.days, end: isoString(cal.endMs), experiments: x.withExperiments },
    start: isoString(cal.startMs),
    end: isoString(cal.endMs),
    status_vocabularies: {
      orders: ORDER_STATUSES,
      payments: ['completed', 'refunded', 'pending', 'failed'],
      subscriptions: SUBSCRIPTION_STATUSES,
      ab_tests: AB_TEST_STATUSES,
      user_behavior_actions: ['view', 'add_to_cart', 'purchase'],
      conversion_stages: ['visit', 'signup', 'purchase'],
      conversion_sources: CONVERSION_SOURCES,
      page_paths: ['/', '/cart', '/checkout', '/pricing', '/products/<product id>'],
      password_strengths: PASSWORD_STRENGTHS,
    },
    status_model: {
      cancelled_probability: STATUS_MODEL.cancelledProbability,
      refunded_probability: STATUS_MODEL.refundedProbability,
      pending_window_days: STATUS_MODEL.pendingWindowDays,
      pending_probability: STATUS_MODEL.pendingProbability,
      failed_attempt_probability: STATUS_MODEL.failedAttemptProbability,
      repeat_failure_probability: STATUS_MODEL.repeatFailureProbability,
    },
    intensity: {
      formula:
        'm(t) = trend(day) * weekly[UTC weekday] * hourly[UTC hour]; trend(day) = 1 + growth_per_year * (day + 0.5) / 365 with day = whole UTC days since start; hourly has mean 1. Births and purchases are uniform in operational time M(t) = integral of m.',
      weekly_factors: Object.fromEntries(WEEKDAY_NAMES.map((n, i) => [n, WEEKLY_FACTORS[i]!])),
      hourly_profile: [...HOURLY_PROFILE],
      trend: { type: 'linear', growth_per_year: TREND_GROWTH_PER_YEAR, reference: isoString(cal.startMs) },
    },
    customers: {
      model: 'BG/NBD',
      ...BGNBD,
      time_unit: 'operational day (lambda is purchases per operational day; one calendar day at multiplier m counts as m operational days)',
      births:
        'first purchase at operational time uniform over the history (so births follow m(t)); users.created_at = birth minus a short sign-up lead',
      first_purchase_at_birth: true,
      countries: Object.fromEntries(COUNTRIES.map((c, i) => [c, COUNTRY_WEIGHTS[i]!])),
      count: scan.customers,
      dropped_by_end: scan.droppedCustomers,
      per_customer: scan.customerTruth,
    },
    demand: {
      choice_model:
        'each order buys one unit of product j with probability w_j(d)/sum_k w_k(d), w_j(d) = attractiveness_j * (price_j(d)/base_price_j)^elasticity_j; prices change at UTC midnight; order total = that day\'s price',
      elasticity_sd: PRODUCT_ELASTICITY_SD,
      elasticity_cap: ELASTICITY_CAP,
      price_factor_range: PRICE_FACTOR_RANGE,
      flat_price_share: FLAT_PRICE_SHARE,
    },
    categories: CATEGORIES.map((c) => ({ name: c.name, mean_elasticity: c.meanElasticity, price_range: c.priceRange })),
    products: catalog.products.map((p) => ({
      id: p.id,
      name: p.name,
      category: p.category,
      base_price: dollars(p.basePriceCents),
      base_cost: dollars(p.baseCostCents),
      elasticity: p.elasticity,
      attractiveness: p.attractiveness,
      views_per_unit: p.viewsPerUnit,
      cart_add_rate: p.cartAddRate,
      current_price: dollars(p.periods[p.periods.length - 1]!.priceCents),
      price_periods: p.periods.map((q) => ({ from: isoString(cal.dayStartMs(q.fromDay)), price: dollars(q.priceCents) })),
    })),
    traffic: {
      views_formula: 'views_jd = Poisson(views_per_unit_j * nonCancelledOrders_d * attractiveness_j / sum_k attractiveness_k) + units_jd',
      cart_adds_formula: 'cart_adds_jd = min(views_jd, units_jd + Poisson(cart_add_rate_j * (views_jd - units_jd)))',
      page_model: { ...PAGE_MODEL },
    },
    subscription_plans: x.plans.map((p) => ({
      id: p.id,
      name: p.name,
      price: dollars(p.priceCents),
      currency: p.currency,
      interval: p.interval,
      stripe_price_id: p.stripePriceId,
      cancel_at_renewal: p.cancelAtRenewal,
      monthly_hazard: Math.round((1 - Math.pow(1 - p.cancelAtRenewal, 1 / p.intervalMonths)) * 1e12) / 1e12,
      mix: p.mix,
    })),
    subscriptions: {
      count: x.tally.count,
      by_status: { ...x.tally.byStatus },
      by_plan: { ...x.tally.byPlan },
      past_due_probability: PAST_DUE_PROBABILITY,
      start_rule: 'customer uniform over customers; start uniform between the customer\'s first purchase and the end; cancels only at renewals (cancelled_at = current_period_end = renewal instant)',
    },
    experiments: x.experiments.map((e) => ({ ...e, realised: { A: { ...e.realised.A }, B: { ...e.realised.B } } })),
    tables: { ...x.tables },
    realised: {
      orders: scan.orders,
      orders_by_status: { ...scan.ordersByStatus },
      payments_by_status: { ...scan.paymentsByStatus },
      payment_rows: x.tables['payments'] ?? 0,
      revenue: dollars(scan.revenueCents),
      units,
      customers: scan.customers,
      users: x.tables['users'] ?? 0,
      revenue_daily_definition: 'revenue = sum of completed + refunded payments created that UTC day; orders_count = number of those payments (one per order)',
      units_definition: 'units = non-cancelled orders (completed, refunded, pending); product_metrics.sales and products.sales_count use it',
    },
  };
}

/** Write the truth as pretty JSON, creating parent directories. */
export async function writeTruth(path: string, truth: Truth): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(truth, null, 2) + '\n', 'utf8');
}
