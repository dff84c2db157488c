/**
 * The scan pass: simulate customers 0, 1, 2, … until the target order count is reached (which fixes
 * the customer count N), accumulating every aggregate the derived tables need (daily revenue, units
 * per product-day, revenue per product-month, country-days) plus small row samples for the
 * behaviour/funnel/session tables. Nothing is written here; the per-table passes regenerate the same
 * customers from their seeds.
 */
import type { Calendar } from './calendar.js';
import { formatTimestamp, isoString } from './calendar.js';
import type { Catalog } from './catalog.js';
import { csvRow } from './copy.js';
import {
  COUNTRIES,
  CustomerSimulator,
  OS_CANCELLED,
  OS_COMPLETED,
  OS_PENDING,
  OS_REFUNDED,
  ORDER_STATUSES,
  type OrderStatus,
} from './customers.js';
import { Rng, mixSeed, pickWeighted, uuid, uuidFromWords } from './random.js';

export const STREAM_SAMPLES = 0x5a3e;
const MINUTE_MS = 60_000;

/** Per-customer ground truth (only kept for small runs). */
export interface CustomerTruth {
  id: string;
  /** Purchase rate per operational day. */
  lambda: number;
  /** Drop-out probability after each repeat purchase. */
  p: number;
  /** First purchase (ISO). */
  birth: string;
  /** Time of the purchase after which the customer dropped out (ISO), or null if alive at the end. */
  dropped_at: string | null;
  /** Orders in the history (all statuses). */
  orders: number;
}

export const CONVERSION_SOURCES: readonly string[] = ['organic', 'paid_search', 'social', 'email', 'referral', 'direct'];
const SOURCE_WEIGHTS: readonly number[] = [0.35, 0.2, 0.15, 0.1, 0.1, 0.1];

export interface ScanResult {
  customers: number;
  orders: number;
  ordersByStatus: Record<OrderStatus, number>;
  paymentsByStatus: { completed: number; refunded: number; pending: number; failed: number };
  /** Completed + refunded payments, in cents. */
  revenueCents: number;
  droppedCustomers: number;
  dayOrders: Float64Array;
  dayNonCancelled: Float64Array;
  dayFailedPayments: Float64Array;
  /** Sum of completed + refunded payments per day (cents) and their count. */
  dayRevenueCents: Float64Array;
  dayRevenueOrders: Float64Array;
  /** Non-cancelled units per product-day: units[j * days + d]. */
  units: Int32Array;
  months: number;
  monthStartMs: number[];
  /** Completed + refunded revenue per product-month (cents): [j * months + m]. */
  productMonthRevenueCents: Float64Array;
  /** [c * days + d] */
  countryDayRevenueCents: Float64Array;
  countryDayUsers: Int32Array;
  countryDayConversions: Int32Array;
  customerTruth: CustomerTruth[] | null;
  behaviorRows: string[];
  conversionRows: string[];
  sessionRows: string[];
}

export const PER_CUSTOMER_TRUTH_MAX_ORDERS = 100_000;

function monthStarts(cal: Calendar): number[] {
  const s = new Date(cal.startMs);
  const out: number[] = [];
  let y = s.getUTCFullYear();
  let m = s.getUTCMonth();
  for (;;) {
    const ms = Date.UTC(y, m, 1);
    if (ms >= cal.endMs) break;
    out.push(ms);
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
  return out;
}

export function scanOrders(seed: number, cal: Calendar, catalog: Catalog, sim: CustomerSimulator, targetOrders: number): ScanResult {
  const days = cal.days;
  const P = catalog.products.length;
  const C = COUNTRIES.length;
  const starts = monthStarts(cal);
  const M = starts.length;
  const res: ScanResult = {
    customers: 0,
    orders: 0,
    ordersByStatus: { completed: 0, cancelled: 0, refunded: 0, pending: 0 },
    paymentsByStatus: { completed: 0, refunded: 0, pending: 0, failed: 0 },
    revenueCents: 0,
    droppedCustomers: 0,
    dayOrders: new Float64Array(days),
    dayNonCancelled: new Float64Array(days),
    dayFailedPayments: new Float64Array(days),
    dayRevenueCents: new Float64Array(days),
    dayRevenueOrders: new Float64Array(days),
    units: new Int32Array(P * days),
    months: M,
    monthStartMs: starts,
    productMonthRevenueCents: new Float64Array(P * M),
    countryDayRevenueCents: new Float64Array(C * days),
    countryDayUsers: new Int32Array(C * days),
    countryDayConversions: new Int32Array(C * days),
    customerTruth: targetOrders <= PER_CUSTOMER_TRUTH_MAX_ORDERS ? [] : null,
    behaviorRows: [],
    conversionRows: [],
    sessionRows: [],
  };
  // Row samples: ~3.5k orders → ≤ ~16k user_behavior rows; ~5k customers → funnel and session rows.
  const orderSampleP = Math.min(1, 3500 / Math.max(1, targetOrders));
  const customerSampleP = Math.min(1, 15_000 / Math.max(1, targetOrders));
  const sampleRng = new Rng(seed, STREAM_SAMPLES);
  const monthOfDay = new Int32Array(days);
  for (let d = 0, m = 0; d < days; d++) {
    while (m + 1 < M && starts[m + 1]! <= cal.dayStartMs(d)) m++;
    monthOfDay[d] = m;
  }

  let i = 0;
  while (res.orders < targetOrders) {
    sim.run(i, true);
    const c = sim.country;
    let lastCountedDay = -1;
    for (let k = 0; k < sim.count; k++) {
      const ms = sim.ms[k]!;
      const d = cal.dayOf(ms);
      const j = sim.product[k]!;
      const status = sim.status[k]!;
      const price = sim.priceCents[k]!;
      res.orders++;
      res.ordersByStatus[ORDER_STATUSES[status]!]++;
      res.dayOrders[d]!++;
      if (status === OS_CANCELLED) continue;
      res.dayNonCancelled[d]!++;
      res.units[j * days + d]!++;
      res.countryDayConversions[c * days + d]!++;
      if (d !== lastCountedDay) {
        res.countryDayUsers[c * days + d]!++;
        lastCountedDay = d;
      }
      const failed = sim.failedAttempts[k]!;
      res.paymentsByStatus.failed += failed;
      res.dayFailedPayments[d]! += failed;
      if (status === OS_PENDING) {
        res.paymentsByStatus.pending++;
        continue;
      }
      if (status === OS_COMPLETED) res.paymentsByStatus.completed++;
      else if (status === OS_REFUNDED) res.paymentsByStatus.refunded++;
      res.revenueCents += price;
      res.dayRevenueCents[d]! += price;
      res.dayRevenueOrders[d]!++;
      res.productMonthRevenueCents[j * M + monthOfDay[d]!]! += price;
      res.countryDayRevenueCents[c * days + d]! += price;
    }
    if (sim.droppedMs !== null) res.droppedCustomers++;
    if (res.customerTruth) {
      res.customerTruth.push({
        id: uuidFromWords(sim.idWords[0]!, sim.idWords[1]!, sim.idWords[2]!, sim.idWords[3]!),
        lambda: sim.lambda,
        p: sim.p,
        birth: isoString(sim.birthMs),
        dropped_at: sim.droppedMs === null ? null : isoString(sim.droppedMs),
        orders: sim.count,
      });
    }
    sampleCustomerRows(res, sim, catalog, cal, sampleRng, seed, orderSampleP, customerSampleP);
    i++;
  }
  res.customers = i;
  return res;
}

/** Emit the sampled user_behavior, conversions and user_sessions rows for the current customer. */
function sampleCustomerRows(
  res: ScanResult,
  sim: CustomerSimulator,
  catalog: Catalog,
  cal: Calendar,
  rng: Rng,
  seed: number,
  orderSampleP: number,
  customerSampleP: number,
): void {
  const userId = uuidFromWords(sim.idWords[0]!, sim.idWords[1]!, sim.idWords[2]!, sim.idWords[3]!);
  const P = catalog.products.length;
  for (let k = 0; k < sim.count; k++) {
    if (mixSeed(seed, STREAM_SAMPLES, sim.index, k) / 4294967296 >= orderSampleP) continue;
    const ms = sim.ms[k]!;
    const productId = catalog.products[sim.product[k]!]!.id;
    const cartAt = ms - rng.uniform(1, 20) * MINUTE_MS;
    const views = 1 + (rng.next() < 0.5 ? 1 : 0);
    for (let v = 0; v < views; v++) {
      res.behaviorRows.push(csvRow([uuid(rng), userId, productId, 'view', formatTimestamp(cartAt - rng.uniform(1, 30) * MINUTE_MS)]));
    }
    // Browsing another product without buying it.
    const other = catalog.products[rng.int(0, P - 1)]!.id;
    res.behaviorRows.push(csvRow([uuid(rng), userId, other, 'view', formatTimestamp(cartAt - rng.uniform(1, 40) * MINUTE_MS)]));
    res.behaviorRows.push(csvRow([uuid(rng), userId, productId, 'add_to_cart', formatTimestamp(cartAt)]));
    if (sim.status[k] !== OS_CANCELLED) res.behaviorRows.push(csvRow([uuid(rng), userId, productId, 'purchase', formatTimestamp(ms)]));
  }
  if (mixSeed(seed, STREAM_SAMPLES + 1, sim.index) / 4294967296 >= customerSampleP) return;
  const source = CONVERSION_SOURCES[pickWeighted(SOURCE_WEIGHTS, rng.next())]!;
  const visitAt = sim.createdMs - rng.uniform(2, 60) * MINUTE_MS;
  res.conversionRows.push(csvRow([uuid(rng), null, 'visit', source, formatTimestamp(visitAt - rng.uniform(1, 600) * MINUTE_MS)]));
  res.conversionRows.push(csvRow([uuid(rng), userId, 'visit', source, formatTimestamp(visitAt)]));
  res.conversionRows.push(csvRow([uuid(rng), userId, 'signup', source, formatTimestamp(sim.createdMs)]));
  if (sim.status[0] !== OS_CANCELLED) res.conversionRows.push(csvRow([uuid(rng), userId, 'purchase', source, formatTimestamp(sim.ms[0]!)]));
  const lastOrder = sim.ms[sim.count - 1]!;
  const lastActivity = Math.min(cal.endMs - 1, lastOrder + rng.uniform(1, 90) * MINUTE_MS);
  res.sessionRows.push(csvRow([uuid(rng), userId, formatTimestamp(lastActivity)]));
}
