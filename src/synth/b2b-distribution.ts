/**
 * Deterministic synthetic history for the `b2b-distribution` profile (seed 001), loaded with streaming
 * COPY into a database that already holds `test/fixtures/schemas/b2b-distribution.sql`.
 *
 * Generative model (every parameter is reported in the truth):
 * - Distributors (tenants) differ in size (share of the orders), price level, time zone and AI adoption
 *   (the share of ordering conversations the AI agent answers first).
 * - Customers (businesses) follow a BG/NBD repeat-purchase process per distributor, in operational
 *   time: λ ~ Gamma(r, α) confirmed orders per operational day, dropout with p ~ Beta(a, b) after each
 *   repeat order; the first order at birth, births uniform in operational time. Operational time runs
 *   at m(day) = trend × weekly[local weekday] (B2B: busy Monday to Friday) and, within a day, follows
 *   a business-hours profile in the distributor's local time (no orders 01:00–03:59, so DST never
 *   makes a local time ambiguous).
 * - Each order (purchase) is reached through order-collection sessions: every session is answered
 *   first by the AI (probability = adoption) or by a person, and converts with that closer's KNOWN
 *   probability; failed sessions (CANCELLED / TIMEOUT / ABANDONED) precede the one that converts.
 *   An AI-first session is escalated to a person with a known probability (handled 'mixed'). A share
 *   of orders is typed in by staff without any session (phone orders).
 * - Baskets: 1 + Poisson(L−1) product draws by popularity, 1 + Poisson(Q−1) units each, with L and Q
 *   per closer, so E[order value] = L × Q × Σ popularity·price of the distributor's catalogue.
 * - Status: AI orders below the distributor's confidence threshold wait for review (REVIEW until a
 *   person reviews them); orders of the last day may still be PENDING; everything else is CONFIRMED.
 *
 * Determinism: every customer is simulated from its own seeded stream, so each table pass regenerates
 * the same customer without keeping the others in memory; the same (seed, orders, days, end, tenants)
 * gives byte-identical tables.
 */
import type pg from 'pg';
import { DAY_MS, formatDate, formatTimestamp, isoString, segmentOf } from './calendar.js';
import { copyRows, csvRow, formatCents } from './copy.js';
import type { CloserTruth, ProfileGenerateOptions, ProfileGenerator, ProfileTruth } from './profile-generator.js';
import { Rng, beta, exponential, gamma, lognormalWithMean, pickCumulative, pickWeighted, poisson, uuid } from './random.js';

const STREAM_TENANT = 0xb2b0;
const STREAM_CUSTOMER = 0xb2b1;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Weekly factors by local weekday (0 = Sunday): wholesale customers order on working days. */
export const WEEKLY_FACTORS: readonly number[] = [0.25, 1.35, 1.2, 1.15, 1.2, 1.05, 0.5];
export const TREND_GROWTH_PER_YEAR = 0.15;
/** Relative ordering activity by local hour; 01:00–03:59 is empty so no order time falls in a DST gap or overlap. */
const HOURLY_RAW: readonly number[] = [0.15, 0, 0, 0, 0.1, 0.4, 1.0, 1.6, 2.0, 1.9, 1.6, 1.3, 1.0, 1.1, 1.3, 1.4, 1.3, 1.1, 0.9, 0.7, 0.6, 0.5, 0.4, 0.25];

/** How the two kinds of closer behave (the true parameters the test checks against the source). */
export const CLOSERS = {
  ai: { conversion: 0.58, escalation: 0.22, lines: 3.0, units: 4.0, firstResponseMeanSeconds: 12 },
  human: { conversion: 0.74, lines: 4.5, units: 5.0, firstResponseMeanSeconds: 1500 },
  /** Share of orders staff type in without any conversation (closed by a person). */
  manualShare: 0.1,
} as const;

/** P(failed session outcome) among CANCELLED, TIMEOUT, ABANDONED. */
const FAILED_OUTCOMES = ['CANCELLED', 'TIMEOUT', 'ABANDONED'] as const;
const FAILED_OUTCOME_WEIGHTS = [0.45, 0.35, 0.2];
/** Orders received within this many hours of the end may still be PENDING, with this probability. */
const PENDING_WINDOW_HOURS = 30;
const PENDING_PROBABILITY = 0.4;
/** Customers who joined but never ordered (NO_ORDERS_YET), per ordering customer. */
const PROSPECT_SHARE = 0.08;
const CHANNELS = ['WHATSAPP', 'SMS', 'EMAIL'] as const;
const CHANNEL_WEIGHTS = [0.72, 0.14, 0.14];

interface BgNbd {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** The distributor designs; tenants beyond these reuse them with a new name and seed. */
const DISTRIBUTOR_DESIGNS = [
  { name: 'Northwind Dairy Supply', timezone: 'America/Chicago', size: 0.5, priceLevel: 1.0, aiAdoption: 0.75, threshold: 0.8, bgnbd: { r: 1.1, alpha: 11, a: 0.7, b: 7 } },
  { name: 'Harbor Beverage Wholesale', timezone: 'America/New_York', size: 0.3, priceLevel: 1.45, aiAdoption: 0.35, threshold: 0.85, bgnbd: { r: 1.6, alpha: 28, a: 0.6, b: 5 } },
  { name: 'Sunrise Foodservice', timezone: 'America/Los_Angeles', size: 0.2, priceLevel: 0.75, aiAdoption: 0.55, threshold: 0.75, bgnbd: { r: 0.9, alpha: 14, a: 0.8, b: 6 } },
] as const;

const CATEGORIES: ReadonlyArray<{ name: string; unit: string; price: [number, number]; items: readonly string[] }> = [
  { name: 'Dairy', unit: 'case', price: [18, 60], items: ['Whole Milk 1L', 'Skim Milk 1L', 'Greek Yogurt 500g', 'Butter 250g', 'Cheddar Block 1kg', 'Heavy Cream 1L', 'Mozzarella 2kg'] },
  { name: 'Beverages', unit: 'case', price: [12, 45], items: ['Cola 330ml x24', 'Sparkling Water 500ml x24', 'Orange Juice 1L x12', 'Iced Tea 500ml x24', 'Lager 330ml x24', 'Cold Brew 250ml x12'] },
  { name: 'Produce', unit: 'kg', price: [2, 9], items: ['Tomatoes', 'Onions', 'Potatoes', 'Lemons', 'Lettuce', 'Avocados', 'Bell Peppers'] },
  { name: 'Frozen', unit: 'box', price: [15, 70], items: ['French Fries 2.5kg', 'Chicken Wings 2kg', 'Ice Cream 5L', 'Pizza Dough Balls x20', 'Shrimp 1kg'] },
  { name: 'Dry Goods', unit: 'bag', price: [6, 40], items: ['Flour 25kg', 'Rice 10kg', 'Pasta 5kg', 'Sugar 10kg', 'Coffee Beans 1kg', 'Olive Oil 5L'] },
  { name: 'Cleaning', unit: 'unit', price: [4, 30], items: ['Dish Soap 5L', 'Sanitizer 1L', 'Paper Towels x12', 'Trash Bags x100'] },
];
const LABELS = ['Restaurant', 'Bar', 'Cafe', 'Hotel', 'Grocery', 'Catering'] as const;
const LABEL_VALUES = [null, 'Small', 'Large'] as const;

// ---------------------------------------------------------------------------------------------
// Local time

const HOURLY_CUM: Float64Array = (() => {
  const total = HOURLY_RAW.reduce((s, x) => s + x, 0);
  const cum = new Float64Array(25);
  for (let h = 0; h < 24; h++) cum[h + 1] = cum[h]! + HOURLY_RAW[h]! / total;
  return cum;
})();

/** Seconds into the local day at which a share `u` of the day's activity has happened (inverse of the hourly profile). */
function secondOfDay(u: number): number {
  let h = 0;
  while (h < 23 && HOURLY_CUM[h + 1]! <= u) h++;
  const width = HOURLY_CUM[h + 1]! - HOURLY_CUM[h]!;
  const frac = width > 0 ? (u - HOURLY_CUM[h]!) / width : 0;
  return h * 3600 + Math.min(3599, Math.floor(frac * 3600));
}

/** UTC offset (ms, local − UTC) of a time zone at an instant; cached per zone and hour. */
class ZoneClock {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  constructor(readonly zone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  offsetMs(utcMs: number): number {
    const key = Math.floor(utcMs / HOUR_MS);
    let off = this.cache.get(key);
    if (off === undefined) {
      const p: Record<string, number> = {};
      for (const part of this.fmt.formatToParts(key * HOUR_MS)) if (part.type !== 'literal') p[part.type] = Number(part.value);
      off = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - key * HOUR_MS;
      this.cache.set(key, off);
    }
    return off;
  }

  /** The instant of a local wall-clock time (given as if it were UTC ms); unambiguous outside 01:00–03:59. */
  toUtc(wallMs: number): number {
    const first = wallMs - this.offsetMs(wallMs);
    return wallMs - this.offsetMs(first);
  }
}

// ---------------------------------------------------------------------------------------------
// Tenants: distributor, staff, catalogue, labels

interface Product {
  id: string;
  name: string;
  sku: string;
  categoryIndex: number;
  unit: string;
  priceCents: number;
}

interface Tenant {
  index: number;
  id: string;
  name: string;
  subdomain: string;
  timezone: string;
  clock: ZoneClock;
  size: number;
  priceLevel: number;
  aiAdoption: number;
  threshold: number;
  bgnbd: BgNbd;
  createdMs: number;
  staff: string[];
  categoryIds: string[];
  labelIds: string[];
  products: Product[];
  /** Cumulative popularity over products. */
  popularity: Float64Array;
  /** Σ popularity × price (cents): the expected price of one product draw. */
  meanDrawCents: number;
  /** Local operational time: cum[d] = operational days elapsed before local day d. */
  cum: Float64Array;
  /** First local day of the history as UTC-midnight ms of its date. */
  firstLocalDayMs: number;
}

function buildTenant(seed: number, t: number, days: number, startMs: number): Tenant {
  const design = DISTRIBUTOR_DESIGNS[t % DISTRIBUTOR_DESIGNS.length]!;
  const rng = new Rng(seed, STREAM_TENANT, t);
  const round = Math.floor(t / DISTRIBUTOR_DESIGNS.length);
  const name = round === 0 ? design.name : `${design.name} ${round + 1}`;
  const id = uuid(rng);
  const staff = Array.from({ length: 4 }, () => uuid(rng));
  const categoryIds = CATEGORIES.map(() => uuid(rng));
  const labelIds = LABELS.map(() => uuid(rng));
  const products: Product[] = [];
  const weights: number[] = [];
  CATEGORIES.forEach((cat, ci) => {
    for (const item of cat.items) {
      const base = Math.exp(rng.uniform(Math.log(cat.price[0]), Math.log(cat.price[1])));
      products.push({
        id: uuid(rng), name: item, sku: `${cat.name.slice(0, 3).toUpperCase()}-${String(products.length + 1).padStart(4, '0')}`,
        categoryIndex: ci, unit: cat.unit, priceCents: Math.max(50, Math.round(base * design.priceLevel * 100)),
      });
      weights.push(gamma(rng, 1.5, 1));
    }
  });
  const popularity = new Float64Array(products.length);
  let acc = 0;
  let meanDraw = 0;
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  products.forEach((p, i) => {
    acc += weights[i]!;
    popularity[i] = acc;
    meanDraw += (weights[i]! / totalWeight) * p.priceCents;
  });
  const clock = new ZoneClock(design.timezone);
  // Local day d is the local date (startMs + d days); its operational length is trend × weekly.
  const cum = new Float64Array(days + 1);
  for (let d = 0; d < days; d++) {
    const weekday = new Date(startMs + d * DAY_MS).getUTCDay();
    cum[d + 1] = cum[d]! + (1 + (TREND_GROWTH_PER_YEAR * (d + 0.5)) / 365) * WEEKLY_FACTORS[weekday]!;
  }
  return {
    index: t, id, name, subdomain: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'), timezone: design.timezone, clock,
    size: design.size, priceLevel: design.priceLevel, aiAdoption: design.aiAdoption, threshold: design.threshold,
    bgnbd: { ...design.bgnbd }, createdMs: startMs - 120 * DAY_MS, staff, categoryIds, labelIds, products, popularity,
    meanDrawCents: meanDraw, cum, firstLocalDayMs: startMs,
  };
}

/** UTC instant (whole seconds) and local wall clock of operational time τ for a tenant. */
function operationalToInstant(tn: Tenant, tau: number): { utcMs: number; localDate: string; localTime: string } {
  const cum = tn.cum;
  const lo = segmentOf(cum, tau);
  const u = Math.min(0.999999, Math.max(0, (tau - cum[lo]!) / (cum[lo + 1]! - cum[lo]!)));
  const second = secondOfDay(u);
  const wallMs = tn.firstLocalDayMs + lo * DAY_MS + second * 1000;
  const hh = Math.floor(second / 3600);
  const mm = Math.floor((second % 3600) / 60);
  const ss = second % 60;
  const pad = (n: number) => (n < 10 ? '0' + n : String(n));
  return { utcMs: tn.clock.toUtc(wallMs), localDate: formatDate(wallMs), localTime: `${pad(hh)}:${pad(mm)}:${pad(ss)}` };
}

// ---------------------------------------------------------------------------------------------
// One customer's whole history

type Closer = 'ai' | 'human';
type Handler = 'ai' | 'mixed' | 'human';

interface Line {
  id: string;
  product: number;
  quantity: number;
  unmatched: boolean;
}

interface Message {
  id: string;
  fromCustomer: boolean;
  ms: number;
  content: string;
  type: 'TEXT' | 'ORDER_CONTEXT';
  replyTo: string | null;
  /** Sent by the AI: an ai_responses row (was_used) carries the same text. */
  byAi: boolean;
  /** A person's reply the AI had suggested something else for (ai_responses.was_used = false). */
  unusedSuggestion: boolean;
  responseId: string | null;
  orderContext: string | null;
}

interface Session {
  id: string;
  handler: Handler;
  startMs: number;
  endMs: number;
  outcome: 'CONFIRMED' | (typeof FAILED_OUTCOMES)[number];
  messages: Message[];
  items: Array<{ id: string; product: number; quantity: number; status: 'CONFIRMED' | 'REMOVED' | 'PENDING'; addedMs: number; sourceMessage: string }>;
  events: Array<{ id: string; type: string; ms: number; by: string; message: string | null; data: string }>;
  createdBy: string;
  closedBy: string;
  staff: string | null;
  orderIndex: number | null;
}

interface Order {
  id: string;
  closer: Closer;
  session: number | null;
  utcMs: number;
  localDate: string;
  localTime: string;
  lines: Line[];
  totalCents: number;
  status: 'CONFIRMED' | 'PENDING' | 'REVIEW';
  aiConfidence: number | null;
  requiresReview: boolean;
  reviewedBy: string | null;
  reviewedMs: number | null;
  updatedMs: number;
  externalId: string | null;
}

interface CustomerHistory {
  id: string;
  exists: boolean;
  prospect: boolean;
  code: string;
  business: string;
  contact: string;
  createdMs: number;
  channel: (typeof CHANNELS)[number];
  conversationId: string;
  address: string;
  postal: string;
  labels: Array<{ label: number; value: string | null }>;
  lambda: number;
  p: number;
  droppedMs: number | null;
  orders: Order[];
  sessions: Session[];
}

const FIRST_NAMES = ['Ana', 'Ben', 'Chloe', 'Dev', 'Eva', 'Femi', 'Gus', 'Hana', 'Ivan', 'Jo', 'Kai', 'Lea', 'Mo', 'Nia', 'Omar', 'Pia'];
const BUSINESS_WORDS = ['Corner', 'Harbor', 'Maple', 'Blue', 'Golden', 'Olive', 'Copper', 'Urban', 'Rustic', 'Lucky', 'Green', 'Silver'];
const BUSINESS_KINDS = ['Bistro', 'Pizza', 'Taproom', 'Deli', 'Cafe', 'Grill', 'Market', 'Kitchen', 'Bakery', 'Inn'];

interface Sim {
  seed: number;
  tenant: Tenant;
  startMs: number;
  endMs: number;
}

/** Customer i of a tenant: the purchase process, its sessions, messages and orders. */
function simulateCustomer(s: Sim, i: number, prospect: boolean): CustomerHistory {
  const tn = s.tenant;
  const rng = new Rng(s.seed, STREAM_CUSTOMER, tn.index, i, prospect ? 1 : 0);
  const id = uuid(rng);
  const first = FIRST_NAMES[rng.int(0, FIRST_NAMES.length - 1)]!;
  const business = `${BUSINESS_WORDS[rng.int(0, BUSINESS_WORDS.length - 1)]} ${BUSINESS_KINDS[rng.int(0, BUSINESS_KINDS.length - 1)]} #${i + 1}`;
  const channel = CHANNELS[pickWeighted(CHANNEL_WEIGHTS, rng.next())]!;
  const labelCount = 1 + (rng.bernoulli(0.3) ? 1 : 0);
  const labels: CustomerHistory['labels'] = [];
  for (let k = 0; k < labelCount; k++) {
    const label = rng.int(0, LABELS.length - 1);
    if (!labels.some((l) => l.label === label)) labels.push({ label, value: LABEL_VALUES[rng.int(0, LABEL_VALUES.length - 1)]! });
  }
  const postal = String(10000 + rng.int(0, 89999));
  const h: CustomerHistory = {
    id, exists: true, prospect, code: `${prospect ? 'P' : 'C'}${tn.index + 1}-${String(i + 1).padStart(5, '0')}`, business, contact: first,
    createdMs: 0, channel, conversationId: uuid(rng), address: `${rng.int(1, 999)} ${BUSINESS_WORDS[rng.int(0, BUSINESS_WORDS.length - 1)]} St`, postal,
    labels, lambda: 0, p: 0, droppedMs: null, orders: [], sessions: [],
  };
  const total = tn.cum[tn.cum.length - 1]!;
  if (prospect) {
    h.createdMs = s.startMs + Math.floor(rng.next() * (s.endMs - s.startMs - DAY_MS));
    return h;
  }
  const { r, alpha, a, b } = tn.bgnbd;
  h.lambda = gamma(rng, r, alpha);
  h.p = beta(rng, a, b);
  let tau = rng.next() * total;
  let prevMs = -Infinity;
  let k = 0;
  for (;;) {
    const at = operationalToInstant(tn, tau);
    if (at.utcMs >= s.endMs) break;
    addPurchase(s, rng, h, at, prevMs);
    prevMs = at.utcMs;
    k++;
    if (k > 1 && rng.bernoulli(h.p)) {
      h.droppedMs = at.utcMs;
      break;
    }
    tau += exponential(rng, Math.max(h.lambda, 1e-9));
    if (tau >= total) break;
  }
  if (h.orders.length === 0) {
    h.exists = false;
    return h;
  }
  const firstActivity = Math.min(h.orders[0]!.utcMs, ...h.sessions.map((x) => x.startMs));
  h.createdMs = Math.max(tn.createdMs, firstActivity - Math.floor(rng.uniform(1, 10) * DAY_MS));
  return h;
}

function drawBasket(rng: Rng, tn: Tenant, closer: Closer): Line[] {
  const c = CLOSERS[closer];
  const draws = 1 + poisson(rng, c.lines - 1);
  const lines: Line[] = [];
  for (let d = 0; d < draws; d++) {
    const product = pickCumulative(tn.popularity, 0, tn.popularity.length, rng.next());
    const quantity = 1 + poisson(rng, c.units - 1);
    const same = lines.find((l) => l.product === product);
    if (same) same.quantity += quantity;
    else lines.push({ id: uuid(rng), product, quantity, unmatched: rng.bernoulli(0.02) });
  }
  return lines;
}

/** One confirmed-or-pending order at `at`, the sessions that led to it (failed ones first), and its status. */
function addPurchase(s: Sim, rng: Rng, h: CustomerHistory, at: { utcMs: number; localDate: string; localTime: string }, prevMs: number): void {
  const tn = s.tenant;
  const orderIndex = h.orders.length;
  if (rng.bernoulli(CLOSERS.manualShare)) {
    h.orders.push(makeOrder(s, rng, h, at, 'human', null));
    return;
  }
  // Sessions until one converts; each answered first by the AI with the tenant's adoption rate.
  const failed: Handler[] = [];
  let winner: Handler;
  for (;;) {
    const aiFirst = rng.bernoulli(tn.aiAdoption);
    const handler: Handler = aiFirst ? (rng.bernoulli(CLOSERS.ai.escalation) ? 'mixed' : 'ai') : 'human';
    if (rng.bernoulli(aiFirst ? CLOSERS.ai.conversion : CLOSERS.human.conversion)) {
      winner = handler;
      break;
    }
    failed.push(handler);
  }
  const winning = buildSession(s, rng, h, winner, 'CONFIRMED', at.utcMs);
  const lowest = Math.max(s.startMs, Number.isFinite(prevMs) ? prevMs + 30 * MINUTE_MS : winning.startMs - 5 * DAY_MS);
  const times = failed.map(() => lowest + rng.next() * Math.max(0, winning.startMs - 2 * HOUR_MS - lowest)).sort((x, y) => x - y);
  failed.forEach((handler, j) => {
    const outcome = FAILED_OUTCOMES[pickWeighted(FAILED_OUTCOME_WEIGHTS, rng.next())]!;
    h.sessions.push(buildSession(s, rng, h, handler, outcome, null, Math.floor(times[j]!)));
  });
  winning.orderIndex = orderIndex;
  h.sessions.push(winning);
  const order = makeOrder(s, rng, h, at, winner === 'human' ? 'human' : 'ai', h.sessions.length - 1, winning);
  h.orders.push(order);
  for (const m of winning.messages) if (m.type === 'ORDER_CONTEXT') m.orderContext = order.id;
}

function makeOrder(
  s: Sim, rng: Rng, h: CustomerHistory, at: { utcMs: number; localDate: string; localTime: string }, closer: Closer, session: number | null, sess?: Session,
): Order {
  const tn = s.tenant;
  const lines = sess ? sess.items.filter((it) => it.status === 'CONFIRMED').map((it) => ({ id: uuid(rng), product: it.product, quantity: it.quantity, unmatched: rng.bernoulli(0.02) })) : drawBasket(rng, tn, closer);
  const totalCents = lines.reduce((sum, l) => sum + l.quantity * tn.products[l.product]!.priceCents, 0);
  const aiConfidence = closer === 'ai' ? Math.round(rng.uniform(0.6, 0.99) * 100) / 100 : null;
  const requiresReview = aiConfidence !== null && aiConfidence < tn.threshold;
  let status: Order['status'] = 'CONFIRMED';
  let reviewedBy: string | null = null;
  let reviewedMs: number | null = null;
  let updatedMs = at.utcMs;
  if (requiresReview) {
    const when = at.utcMs + Math.floor(lognormalWithMean(rng, 45 * MINUTE_MS, 0.8));
    if (when < s.endMs) {
      reviewedBy = tn.staff[rng.int(0, tn.staff.length - 1)]!;
      reviewedMs = when;
      updatedMs = when;
    } else status = 'REVIEW';
  } else if (at.utcMs >= s.endMs - PENDING_WINDOW_HOURS * HOUR_MS && rng.bernoulli(PENDING_PROBABILITY)) {
    status = 'PENDING';
  }
  return {
    id: uuid(rng), closer, session, utcMs: at.utcMs, localDate: at.localDate, localTime: at.localTime, lines, totalCents, status,
    aiConfidence, requiresReview, reviewedBy, reviewedMs, updatedMs, externalId: rng.bernoulli(0.6) ? `ERP-${tn.index + 1}-${rng.int(100000, 999999)}` : null,
  };
}

/** Durations (ms) drawn for a session; the session ends at `endMs` when it converts, else starts at `startMs`. */
function buildSession(s: Sim, rng: Rng, h: CustomerHistory, handler: Handler, outcome: Session['outcome'], endMs: number | null, startMs?: number): Session {
  const tn = s.tenant;
  const staff = handler === 'ai' ? null : tn.staff[rng.int(0, tn.staff.length - 1)]!;
  const aiFirst = handler !== 'human';
  const firstResponse = aiFirst
    ? 2000 + Math.floor(exponential(rng, 1 / (CLOSERS.ai.firstResponseMeanSeconds * 1000)))
    : Math.floor(lognormalWithMean(rng, CLOSERS.human.firstResponseMeanSeconds * 1000, 0.9));
  const escalationDelay = handler === 'mixed' ? Math.floor(lognormalWithMean(rng, 15 * MINUTE_MS, 0.7)) : 0;
  const customerThink = Math.floor(rng.uniform(1, 20) * MINUTE_MS);
  const closeDelay = handler === 'ai' ? Math.floor(rng.uniform(2, 8) * 1000) : Math.floor(rng.uniform(1, 10) * MINUTE_MS);
  const span = firstResponse + escalationDelay + customerThink + closeDelay;
  const t0 = endMs !== null ? endMs - span : startMs!;
  const basket = drawBasket(rng, tn, aiFirst ? 'ai' : 'human');
  const messages: Message[] = [];
  const msg = (fromCustomer: boolean, ms: number, content: string, replyTo: string | null, byAi: boolean, type: Message['type'] = 'TEXT'): Message => {
    const m: Message = {
      id: uuid(rng), fromCustomer, ms, content, type, replyTo, byAi, unusedSuggestion: !fromCustomer && !byAi && rng.bernoulli(0.5),
      responseId: null, orderContext: null,
    };
    if (byAi || m.unusedSuggestion) m.responseId = uuid(rng);
    messages.push(m);
    return m;
  };
  const ask = msg(true, t0, `Hi, please send ${basket.map((l) => `${l.quantity} x ${tn.products[l.product]!.name}`).join(', ')}`, null, false);
  const firstReply = msg(false, t0 + firstResponse, aiFirst ? `Got it: ${basket.length} item(s). Anything else?` : `Hi ${h.contact}, noted ${basket.length} item(s).`, ask.id, aiFirst);
  let last = firstReply;
  if (handler === 'mixed') last = msg(false, last.ms + escalationDelay, `Hi ${h.contact}, a colleague here: I'll check prices and stock for you.`, ask.id, false);
  const items: Session['items'] = basket.map((l, j) => ({
    id: uuid(rng), product: l.product, quantity: l.quantity, addedMs: t0 + 1000 + j, sourceMessage: ask.id,
    status: outcome === 'CONFIRMED' ? 'CONFIRMED' : outcome === 'CANCELLED' ? 'REMOVED' : 'PENDING',
  }));
  let closeMs: number;
  if (outcome === 'CONFIRMED') {
    const yes = msg(true, last.ms + customerThink, 'Yes, confirm please.', last.id, false);
    const closedByAi = handler === 'ai';
    last = msg(false, yes.ms + closeDelay, 'Order confirmed. Thank you!', yes.id, closedByAi, 'ORDER_CONTEXT');
    closeMs = last.ms;
  } else if (outcome === 'CANCELLED') {
    const no = msg(true, last.ms + customerThink, 'Cancel that, we are covered this week.', last.id, false);
    closeMs = no.ms + closeDelay;
  } else {
    closeMs = last.ms + 60 * MINUTE_MS;
  }
  const creator = aiFirst ? 'ai_agent' : staff!;
  const closer = outcome === 'TIMEOUT' ? 'system' : handler === 'ai' ? 'ai_agent' : staff!;
  const events: Session['events'] = [{ id: uuid(rng), type: 'SESSION_STARTED', ms: t0, by: creator, message: ask.id, data: '{}' }];
  for (const it of items) events.push({ id: uuid(rng), type: 'ITEM_ADDED', ms: it.addedMs, by: aiFirst ? 'ai_agent' : staff!, message: ask.id, data: `{"quantity":${it.quantity}}` });
  if (handler === 'mixed') events.push({ id: uuid(rng), type: 'STATUS_CHANGED', ms: t0 + firstResponse + escalationDelay, by: staff!, message: null, data: '{"escalated_to_human":true}' });
  events.push({ id: uuid(rng), type: outcome === 'CONFIRMED' ? 'ORDER_CONFIRMED' : outcome === 'CANCELLED' ? 'ORDER_CANCELLED' : 'TIMEOUT_WARNING', ms: closeMs, by: outcome === 'TIMEOUT' ? 'system' : 'customer', message: null, data: '{}' });
  events.push({ id: uuid(rng), type: 'SESSION_CLOSED', ms: closeMs, by: closer, message: null, data: `{"outcome":"${outcome}"}` });
  return { id: uuid(rng), handler, startMs: t0, endMs: closeMs, outcome, messages, items, events, createdBy: creator, closedBy: closer, staff, orderIndex: null };
}

// ---------------------------------------------------------------------------------------------
// Customer statuses as the platform's nightly job would set them

interface StatusInfo {
  status: 'ORDERING' | 'AT_RISK' | 'STOPPED_ORDERING' | 'NO_ORDERS_YET';
  lastMs: number | null;
  expectedMs: number | null;
  changedMs: number;
  confirmed: number;
  spentCents: number;
}

/** Typical gap: the customer's own mean gap between confirmed orders, or the distributor's mean (α/r days) below two orders. */
export const STATUS_RULE =
  'gap = (last - first confirmed order) / (n - 1) for n >= 2, else alpha / r days; expected_order_date = last + gap; '
  + 'ORDERING while end < last + 2 gap, AT_RISK while end < last + 4 gap, then STOPPED_ORDERING; NO_ORDERS_YET without a confirmed order';

function customerStatus(h: CustomerHistory, tn: Tenant, endMs: number): StatusInfo {
  const confirmed = h.orders.filter((o) => o.status === 'CONFIRMED');
  const spentCents = confirmed.reduce((s, o) => s + o.totalCents, 0);
  if (confirmed.length === 0) return { status: 'NO_ORDERS_YET', lastMs: null, expectedMs: null, changedMs: h.createdMs, confirmed: 0, spentCents };
  const firstMs = confirmed[0]!.utcMs;
  const lastMs = confirmed[confirmed.length - 1]!.utcMs;
  const gap = confirmed.length >= 2 ? (lastMs - firstMs) / (confirmed.length - 1) : (tn.bgnbd.alpha / tn.bgnbd.r) * DAY_MS;
  const expectedMs = lastMs + gap;
  const status = endMs < lastMs + 2 * gap ? 'ORDERING' : endMs < lastMs + 4 * gap ? 'AT_RISK' : 'STOPPED_ORDERING';
  const changedMs = status === 'ORDERING' ? lastMs : status === 'AT_RISK' ? lastMs + 2 * gap : lastMs + 4 * gap;
  return { status, lastMs, expectedMs, changedMs: Math.floor(Math.min(endMs - 1000, Math.max(changedMs, h.createdMs))), confirmed: confirmed.length, spentCents };
}

// ---------------------------------------------------------------------------------------------
// Rows

interface Population {
  tenants: Tenant[];
  /** Ordering customers simulated per tenant (some never order before the end and are not written). */
  customers: number[];
  prospects: number[];
}

function* eachHistory(s: Omit<Sim, 'tenant'>, pop: Population): Generator<{ tn: Tenant; h: CustomerHistory }> {
  for (const tn of pop.tenants) {
    const sim = { ...s, tenant: tn };
    for (let i = 0; i < pop.customers[tn.index]!; i++) {
      const h = simulateCustomer(sim, i, false);
      if (h.exists) yield { tn, h };
    }
    for (let i = 0; i < pop.prospects[tn.index]!; i++) yield { tn, h: simulateCustomer(sim, i, true) };
  }
}

/** Rows of one table from every customer history, chunked per customer. */
function* historyRows(s: Omit<Sim, 'tenant'>, pop: Population, emit: (tn: Tenant, h: CustomerHistory) => string, count: { rows: number }): Generator<string> {
  count.rows = 0;
  for (const { tn, h } of eachHistory(s, pop)) {
    const chunk = emit(tn, h);
    // csvRow quotes any field holding a newline, and none here does: one newline per row.
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) count.rows++;
    if (chunk.length > 0) yield chunk;
  }
}

const ts = (ms: number | null): string | null => (ms === null ? null : formatTimestamp(ms) + '+00');

function distributorRows(pop: Population, endMs: number): string[] {
  return pop.tenants.map((tn) => csvRow([
    tn.id, tn.name, `${tn.subdomain}.example.test`, tn.subdomain, 'ENTERPRISE', 'ACTIVE', `billing@${tn.subdomain}.example.test`,
    'Owner', `owner@${tn.subdomain}.example.test`, tn.timezone, 'en', 'USD', true, tn.threshold.toFixed(2), 'ACTIVE', true,
    ts(tn.createdMs), ts(endMs - DAY_MS),
  ]));
}

function staffRows(pop: Population): string[] {
  return pop.tenants.flatMap((tn) => tn.staff.map((id, j) => csvRow([
    id, tn.id, FIRST_NAMES[j]!, 'Staff', `${FIRST_NAMES[j]} S.`, j === 0 ? 'OWNER' : j === 1 ? 'MANAGER' : 'OPERATOR', 'ACTIVE', true, ts(tn.createdMs), ts(tn.createdMs),
  ])));
}

function categoryRows(pop: Population): string[] {
  return pop.tenants.flatMap((tn) => CATEGORIES.map((c, ci) => csvRow([tn.categoryIds[ci]!, tn.id, c.name, ci, true, ts(tn.createdMs), ts(tn.createdMs)])));
}

function productRows(pop: Population): string[] {
  return pop.tenants.flatMap((tn) => tn.products.map((p, j) => csvRow([
    p.id, tn.id, p.name, p.sku, CATEGORIES[p.categoryIndex]!.name, tn.categoryIds[p.categoryIndex]!, p.unit, formatCents(p.priceCents),
    JSON.stringify([p.name.toLowerCase()]), true, 500 + ((j * 37) % 900), true, ts(tn.createdMs), ts(tn.createdMs),
  ])));
}

function labelRows(pop: Population): string[] {
  return pop.tenants.flatMap((tn) => LABELS.map((l, li) => csvRow([tn.labelIds[li]!, tn.id, l, '#336699', false, ts(tn.createdMs), ts(tn.createdMs)])));
}

function customerRow(tn: Tenant, h: CustomerHistory, endMs: number): string {
  const st = customerStatus(h, tn, endMs);
  const updated = Math.max(h.createdMs, st.changedMs);
  return csvRow([
    h.id, tn.id, h.business, h.contact, h.code, `orders@${h.code.toLowerCase()}.example.test`, `+1555${h.code.replace(/\D/g, '')}`,
    `${h.address}, ${h.postal}`, st.status, h.prospect ? 'PENDING' : 'ACTIVE', formatDate(h.createdMs),
    st.lastMs === null ? null : formatDate(st.lastMs), st.expectedMs === null ? null : formatDate(st.expectedMs),
    st.confirmed, formatCents(st.spentCents), ts(h.createdMs), ts(updated),
  ]);
}

function messageRows(tn: Tenant, h: CustomerHistory): string {
  let out = '';
  for (const s of h.sessions) {
    s.messages.forEach((m, pos) => {
      out += csvRow([
        m.id, h.conversationId, m.content, m.fromCustomer, m.type, 'READ', m.fromCustomer, m.fromCustomer ? '0.90' : null,
        m.fromCustomer && pos === 0 ? 'order' : null, m.orderContext, s.id, pos + 1, m.replyTo, ts(m.ms), ts(m.ms),
      ]);
    });
  }
  return out;
}

function aiResponseRows(h: CustomerHistory): string {
  let out = '';
  for (const s of h.sessions) {
    for (const m of s.messages) {
      if (!m.responseId) continue;
      // The response answers the customer message the reply replies to; a used one is the reply's own text.
      const content = m.byAi ? m.content : `Suggested: ${m.content.slice(0, 20)}…`;
      out += csvRow([m.responseId, m.replyTo, m.type === 'ORDER_CONTEXT' ? 'ORDER_PROCESSING' : 'CUSTOMER_SUPPORT', 'v2.3', content, '0.88', 900, 420, 'gpt-4', m.byAi, ts(m.ms - 1000)]);
    }
  }
  return out;
}

function sessionRows(tn: Tenant, h: CustomerHistory): string {
  let out = '';
  for (const s of h.sessions) {
    const order = s.orderIndex === null ? null : h.orders[s.orderIndex]!;
    const aiTouches = s.messages.filter((m) => m.byAi).length;
    out += csvRow([
      s.id, h.conversationId, tn.id, 'CLOSED', ts(s.startMs), ts(s.startMs + 1000), ts(s.endMs), s.outcome, order?.id ?? null,
      aiTouches > 0 ? '0.86' : null, aiTouches, ts(s.startMs), ts(s.endMs), s.createdBy, s.closedBy,
    ]);
  }
  return out;
}

function sessionItemRows(tn: Tenant, h: CustomerHistory): string {
  let out = '';
  for (const s of h.sessions) {
    for (const it of s.items) {
      const p = tn.products[it.product]!;
      out += csvRow([
        it.id, s.id, p.id, p.name, p.sku, it.quantity, formatCents(p.priceCents), it.sourceMessage, s.handler !== 'human', it.status,
        ts(it.addedMs), it.status === 'CONFIRMED' ? ts(s.endMs) : null, it.status === 'REMOVED' ? ts(s.endMs) : null,
      ]);
    }
  }
  return out;
}

function sessionEventRows(h: CustomerHistory): string {
  let out = '';
  for (const s of h.sessions) for (const e of s.events) out += csvRow([e.id, s.id, e.type, e.data, e.by, e.message, ts(e.ms)]);
  return out;
}

function orderRows(tn: Tenant, h: CustomerHistory): string {
  let out = '';
  for (const o of h.orders) {
    const s = o.session === null ? null : h.sessions[o.session]!;
    const ask = s?.messages[0] ?? null;
    out += csvRow([
      o.id, h.id, tn.id, s ? h.conversationId : null, s ? h.channel : null, o.status, o.localDate, o.localTime,
      formatDate(o.utcMs + 2 * DAY_MS), h.postal, h.address, formatCents(o.totalCents),
      s && h.channel === 'WHATSAPP' ? ask!.content : null, o.closer === 'ai', o.aiConfidence?.toFixed(2) ?? null,
      o.closer === 'ai' ? ask!.id : null, s?.id ?? null, s !== null, o.requiresReview, o.reviewedBy, ts(o.reviewedMs), o.externalId,
      ts(o.utcMs), ts(o.updatedMs),
    ]);
  }
  return out;
}

function orderProductRows(tn: Tenant, h: CustomerHistory): string {
  let out = '';
  for (const o of h.orders) {
    o.lines.forEach((l, j) => {
      const p = tn.products[l.product]!;
      const ai = o.closer === 'ai';
      out += csvRow([
        l.id, o.id, p.name, p.unit, l.quantity, formatCents(p.priceCents), formatCents(l.quantity * p.priceCents), ai, ai ? '0.90' : null,
        l.unmatched ? null : p.id, j + 1, l.unmatched ? null : p.id, l.unmatched ? null : ai ? 'AI_MATCH' : 'EXACT_MATCH', ts(o.utcMs), ts(o.updatedMs),
      ]);
    });
  }
  return out;
}

function conversationRows(tn: Tenant, h: CustomerHistory): string {
  if (h.sessions.length === 0) return '';
  const last = Math.max(...h.sessions.map((s) => s.endMs));
  return csvRow([h.conversationId, h.id, tn.id, h.channel, 'ACTIVE', ts(last), 0, ts(h.createdMs), ts(last)]);
}

function labelAssignmentRows(tn: Tenant, h: CustomerHistory): string {
  return h.labels.map((l) => csvRow([h.id, tn.labelIds[l.label]!, l.value, ts(h.createdMs)])).join('');
}

// ---------------------------------------------------------------------------------------------
// Sizing, truth, entry point

function utcMidnight(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Customers per tenant so its orders reach its share of the target (one scan over simulated customers). */
function sizePopulation(s: Omit<Sim, 'tenant'>, tenants: Tenant[], targetOrders: number): Population {
  const sizes = tenants.map((t) => t.size);
  const sum = sizes.reduce((a, b) => a + b, 0);
  const customers = tenants.map((tn) => {
    const target = (targetOrders * tn.size) / sum;
    const sim = { ...s, tenant: tn };
    let orders = 0;
    let i = 0;
    while (orders < target) orders += simulateCustomer(sim, i++, false).orders.length;
    return i;
  });
  return { tenants, customers, prospects: customers.map((c) => Math.max(1, Math.round(c * PROSPECT_SHARE))) };
}

interface Tally {
  orders: number;
  byTenant: Record<string, { orders: number; confirmed: number; sessions: number; customers: number; statuses: Record<string, number>; alive_by_status: Record<string, number> }>;
  /** Per closer: Σ orders (confirmed) and expected value sums, to weight the per-tenant AOVs. */
  closerOrders: Record<Closer, number>;
  closerExpectedCents: Record<Closer, number>;
  closerRealisedCents: Record<Closer, number>;
  sessionsByFirst: Record<Closer, { sessions: number; converted: number }>;
}

function tallyPopulation(s: Omit<Sim, 'tenant'>, pop: Population): Tally {
  const t: Tally = {
    orders: 0, byTenant: {}, closerOrders: { ai: 0, human: 0 }, closerExpectedCents: { ai: 0, human: 0 }, closerRealisedCents: { ai: 0, human: 0 },
    sessionsByFirst: { ai: { sessions: 0, converted: 0 }, human: { sessions: 0, converted: 0 } },
  };
  for (const { tn, h } of eachHistory(s, pop)) {
    const row = (t.byTenant[tn.id] ??= { orders: 0, confirmed: 0, sessions: 0, customers: 0, statuses: {}, alive_by_status: {} });
    const st = customerStatus(h, tn, s.endMs);
    row.customers++;
    row.statuses[st.status] = (row.statuses[st.status] ?? 0) + 1;
    if (!h.prospect && h.droppedMs === null) row.alive_by_status[st.status] = (row.alive_by_status[st.status] ?? 0) + 1;
    row.orders += h.orders.length;
    row.sessions += h.sessions.length;
    t.orders += h.orders.length;
    for (const o of h.orders) {
      if (o.status !== 'CONFIRMED') continue;
      row.confirmed++;
      const c = CLOSERS[o.closer];
      t.closerOrders[o.closer]++;
      t.closerExpectedCents[o.closer] += c.lines * c.units * tn.meanDrawCents;
      t.closerRealisedCents[o.closer] += o.totalCents;
    }
    for (const x of h.sessions) {
      const first: Closer = x.handler === 'human' ? 'human' : 'ai';
      t.sessionsByFirst[first].sessions++;
      if (x.outcome === 'CONFIRMED') t.sessionsByFirst[first].converted++;
    }
  }
  return t;
}

export const generateB2bDistribution: ProfileGenerator = async (client: pg.ClientBase, opts: ProfileGenerateOptions): Promise<ProfileTruth> => {
  const seed = opts.seed ?? 42;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const targetOrders = positiveInt('orders', opts.orders ?? 20_000);
  const days = positiveInt('days', opts.days ?? 365);
  const tenantCount = positiveInt('tenants', opts.tenants ?? 3);
  const endMs = utcMidnight(opts.end ?? new Date());
  const startMs = endMs - days * DAY_MS;
  const base = { seed, startMs, endMs };
  const tenants = Array.from({ length: tenantCount }, (_, t) => buildTenant(seed, t, days, startMs));
  const pop = sizePopulation(base, tenants, targetOrders);

  await client.query("SET TimeZone = 'UTC'");
  const replica = await skipFkTriggersIfAllowed(client);
  const tables: Record<string, number> = {};
  // Per-customer tables stream one chunk (several rows) per customer: their rows are counted as emitted.
  const emitted = { rows: 0 };
  const copy = async (table: string, columns: readonly string[], rows: Iterable<string>): Promise<void> => {
    emitted.rows = -1;
    const sent = await copyRows(client, table, columns, rows);
    tables[table] = (tables[table] ?? 0) + (emitted.rows >= 0 ? emitted.rows : sent);
  };
  const rows = (emit: (tn: Tenant, h: CustomerHistory) => string) => historyRows(base, pop, emit, emitted);
  try {
    // One transaction: sessions and orders reference each other (the deferred constraint checks at commit).
    await client.query('BEGIN');
    await copy('distributors', ['id', 'business_name', 'domain', 'subdomain', 'subscription_tier', 'subscription_status', 'billing_email', 'contact_name',
      'contact_email', 'timezone', 'locale', 'currency', 'ai_enabled', 'ai_confidence_threshold', 'status', 'onboarding_completed', 'created_at', 'updated_at'],
    distributorRows(pop, endMs));
    await copy('user_profiles', ['id', 'distributor_id', 'first_name', 'last_name', 'display_name', 'role', 'status', 'email_verified', 'created_at', 'updated_at'], staffRows(pop));
    await copy('product_categories', ['id', 'distributor_id', 'name', 'sort_order', 'active', 'created_at', 'updated_at'], categoryRows(pop));
    await copy('products', ['id', 'distributor_id', 'name', 'sku', 'category', 'category_id', 'unit', 'unit_price', 'aliases', 'in_stock', 'stock_quantity', 'active', 'created_at', 'updated_at'], productRows(pop));
    await copy('customer_labels', ['id', 'distributor_id', 'name', 'color', 'is_predefined', 'created_at', 'updated_at'], labelRows(pop));
    await copy('customers', ['id', 'distributor_id', 'business_name', 'contact_person_name', 'customer_code', 'email', 'phone', 'address', 'status',
      'invitation_status', 'joined_date', 'last_ordered_date', 'expected_order_date', 'total_orders', 'total_spent', 'created_at', 'updated_at'],
    rows((tn, h) => customerRow(tn, h, endMs)));
    await copy('customer_label_assignments', ['customer_id', 'label_id', 'value', 'assigned_at'], rows(labelAssignmentRows));
    await copy('conversations', ['id', 'customer_id', 'distributor_id', 'channel', 'status', 'last_message_at', 'unread_count', 'created_at', 'updated_at'], rows(conversationRows));
    await copy('conversation_order_sessions', ['id', 'conversation_id', 'distributor_id', 'status', 'started_at', 'collecting_started_at', 'closed_at', 'outcome',
      'consolidated_order_id', 'ai_confidence_avg', 'ai_interactions_count', 'created_at', 'updated_at', 'created_by', 'closed_by'], rows(sessionRows));
    await copy('messages', ['id', 'conversation_id', 'content', 'is_from_customer', 'message_type', 'status', 'ai_processed', 'ai_confidence', 'ai_extracted_intent',
      'order_context_id', 'order_session_id', 'thread_position', 'reply_to_message_id', 'created_at', 'updated_at'], rows(messageRows));
    await copy('ai_responses', ['id', 'message_id', 'agent_type', 'agent_version', 'response_content', 'confidence', 'processing_time', 'tokens_used', 'model_used',
      'was_used', 'created_at'], rows((_tn, h) => aiResponseRows(h)));
    await copy('orders', ['id', 'customer_id', 'distributor_id', 'conversation_id', 'channel', 'status', 'received_date', 'received_time', 'delivery_date',
      'postal_code', 'delivery_address', 'total_amount', 'whatsapp_message', 'ai_generated', 'ai_confidence', 'ai_source_message_id', 'order_session_id',
      'is_consolidated', 'requires_review', 'reviewed_by', 'reviewed_at', 'external_order_id', 'created_at', 'updated_at'], rows(orderRows));
    await copy('order_products', ['id', 'order_id', 'product_name', 'product_unit', 'quantity', 'unit_price', 'line_price', 'ai_extracted', 'ai_confidence',
      'suggested_product_id', 'line_order', 'matched_product_id', 'matching_method', 'created_at', 'updated_at'], rows(orderProductRows));
    await copy('order_session_items', ['id', 'order_session_id', 'product_id', 'product_name', 'product_code', 'quantity', 'unit_price', 'source_message_id',
      'ai_extracted', 'status', 'added_at', 'confirmed_at', 'removed_at'], rows(sessionItemRows));
    await copy('order_session_events', ['id', 'order_session_id', 'event_type', 'event_data', 'triggered_by', 'message_id', 'created_at'], rows((_tn, h) => sessionEventRows(h)));
    await client.query('COMMIT');
    // Fresh tables have no statistics; the profile's per-session lookups plan badly without them.
    await client.query('ANALYZE');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    if (replica) await client.query('RESET session_replication_role');
  }
  return buildTruth(seed, { targetOrders, days, endMs, startMs }, pop, tallyPopulation(base, pop), tables);
};

/** Per-row FK triggers slow COPY; a superuser loads with them off (every reference points at a row written here). */
async function skipFkTriggersIfAllowed(client: pg.ClientBase): Promise<boolean> {
  const res = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  if (res.rows[0]?.rolsuper !== true) return false;
  await client.query('SET session_replication_role = replica');
  return true;
}

function buildTruth(seed: number, o: { targetOrders: number; days: number; endMs: number; startMs: number }, pop: Population, t: Tally, tables: Record<string, number>): ProfileTruth {
  const dollars = (cents: number) => Math.round(cents) / 100;
  const closer = (k: Closer): CloserTruth => ({
    conversion: k === 'ai' ? CLOSERS.ai.conversion : CLOSERS.human.conversion,
    // The expected order value of this closer's confirmed orders, given how many each distributor had.
    aov: t.closerOrders[k] > 0 ? dollars(t.closerExpectedCents[k] / t.closerOrders[k]) : 0,
  });
  return {
    generator: 'b2b-distribution',
    seed,
    start: isoString(o.startMs),
    end: isoString(o.endMs),
    currency: 'USD',
    tenants: pop.tenants.map((tn) => tn.id),
    orders: t.orders,
    closers: { ai: closer('ai'), human: closer('human') },
    extra: {
      options: { orders: o.targetOrders, days: o.days, tenants: pop.tenants.length },
      distributors: pop.tenants.map((tn) => ({
        id: tn.id, name: tn.name, timezone: tn.timezone, size: tn.size, price_level: tn.priceLevel, ai_adoption: tn.aiAdoption,
        ai_confidence_threshold: tn.threshold, bgnbd: tn.bgnbd, expected_draw_price: dollars(tn.meanDrawCents),
        customers_simulated: pop.customers[tn.index], prospects: pop.prospects[tn.index], ...t.byTenant[tn.id],
      })),
      closers_model: {
        ...CLOSERS,
        first_responder: "a session is the AI's when the AI answered first (handled_by 'ai' or 'mixed'), a person's otherwise",
        aov_formula: 'E[order value] = lines × units × Σ popularity·price over the distributor catalogue',
      },
      realised: {
        sessions_by_first_responder: t.sessionsByFirst,
        confirmed_orders_by_closer: t.closerOrders,
        aov_by_closer: { ai: t.closerOrders.ai ? dollars(t.closerRealisedCents.ai / t.closerOrders.ai) : null, human: t.closerOrders.human ? dollars(t.closerRealisedCents.human / t.closerOrders.human) : null },
      },
      status_rule: STATUS_RULE,
      order_status_model: { pending_window_hours: PENDING_WINDOW_HOURS, pending_probability: PENDING_PROBABILITY, review: 'AI orders below the confidence threshold wait for a person (lognormal, mean 45 min); REVIEW if not reviewed by the end' },
      intensity: { weekly_factors: WEEKLY_FACTORS, trend_growth_per_year: TREND_GROWTH_PER_YEAR, hourly_profile_local: HOURLY_RAW },
      tables,
    },
  };
}
