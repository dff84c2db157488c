/**
 * Deterministic synthetic history for the `field-services` profile (seed 002), loaded with streaming
 * COPY into a database that already has `test/fixtures/schemas/field-services.sql`.
 *
 * Generative model (every parameter is returned in the truth):
 * - Customers (phone numbers) follow BG/NBD in operational time (calendar.ts: trend × weekly ×
 *   hourly), like the pricing-platform generator: λ ~ Gamma(r, α) service orders per operational day,
 *   dropout p ~ Beta(a, b) after each repeat order.
 * - Each order has an origin: an AI calling-agent call it closed ('ai_agent' created_by_role), an AI
 *   call escalated to a person who closed it ('admin'), a staff call ('admin'), or the web form
 *   ('system', no call). A call of kind c converts with probability CONVERSION[c]: the converting call
 *   is preceded by Geometric(CONVERSION[c]) calls of the same kind from the same phone that booked
 *   nothing, so calls per order average 1/CONVERSION[c].
 * - The agreed dealing_price is lognormal around the service type's mean × the closer's multiplier
 *   (AI closes cheaper jobs); the invoice final_price is dealing × a ratio drawn from a known mixture
 *   (unchanged, upsold, discounted). Completed jobs carry the invoice; cancellations depend on the
 *   closer; orders still in progress at the end carry new/accepted/on_way/processing.
 * - Platform users (vendors) each hold one subscription to a paid plan that is not renewed at each
 *   renewal with a known probability per plan; a few very recent ones are still on the free trial.
 *
 * Determinism: every id and time comes from streams seeded by (seed, stream, index…): same options,
 * byte-identical tables. Memory is O(vendors), never O(orders): orders and calls are each streamed in
 * their own pass that regenerates the customers from their seeds.
 */
import type pg from 'pg';
import { Calendar, DAY_MS, TREND_GROWTH_PER_YEAR, WEEKDAY_NAMES, WEEKLY_FACTORS, addMonthsUtc, formatTimestamp, isoString } from './calendar.ts';
import { copyRows, csvRow, formatCents } from './copy.ts';
import { Rng, base62, beta, exponential, gamma, lognormalWithMean, pickWeighted, uuid } from './random.ts';
import type { ProfileGenerateOptions, ProfileGenerator, ProfileTruth } from './profile-generator.ts';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

const STREAM_CUSTOMER = 0xf5c1;
const STREAM_ORDER = 0xf5c2;
const STREAM_CALLS = 0xf5c3;
const STREAM_STAFF = 0xf5c4;
const STREAM_SUBS = 0xf5c5;

/** BG/NBD of service needs: a household books a few jobs a year and drops out after ~1 in 4 repeats. */
export const BGNBD = { r: 0.6, alpha: 90, a: 1.0, b: 3.0 } as const;

export const SERVICE_TYPES = ['plumbing', 'electrical', 'cleaning', 'repairs', 'maintenance', 'other'] as const;
const SERVICE_WEIGHTS = [0.28, 0.2, 0.22, 0.15, 0.12, 0.03];
/** Mean agreed price (USD) of each service type before the closer's multiplier. */
const SERVICE_MEAN_PRICE = [220, 260, 140, 180, 160, 120];
const PRICE_SIGMA = 0.4;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
const PRIORITY_WEIGHTS = [0.2, 0.5, 0.22, 0.08];
/** Days from booking to the visit by priority (mean of an exponential, plus an hour). */
const PRIORITY_LEAD_DAYS = [4, 2, 0.7, 0.15];

/** Where an order came from; its call kind, its created_by_role and its closer. */
const ORIGINS = ['ai', 'escalated', 'staff', 'web'] as const;
type Origin = (typeof ORIGINS)[number];
const ORIGIN_WEIGHTS = [0.42, 0.08, 0.3, 0.2];
const ROLE_OF: Record<Origin, string> = { ai: 'ai_agent', escalated: 'admin', staff: 'admin', web: 'system' };
/** P(a call of this kind ends in an order). 'escalated' is an AI call handed to a person. */
export const CONVERSION: Record<Exclude<Origin, 'web'>, number> = { ai: 0.3, escalated: 0.4, staff: 0.45 };
/** Agreed-price multiplier by closer: the AI books more routine, cheaper jobs. */
export const PRICE_MULTIPLIER = { ai: 0.9, human: 1.12, none: 1.0 } as const;
/** P(cancelled) of an order by closer. */
export const CANCEL_PROBABILITY = { ai: 0.14, human: 0.08, none: 0.12 } as const;
/** Answer delay (seconds): lognormal with this mean and log-sd 0.5. Unanswered: staff calls that rang out. */
export const ANSWER_SECONDS = { ai: 2.5, human: 25 } as const;
const ANSWER_SIGMA = 0.5;
export const MISSED_CALL_PROBABILITY = { ai: 0.02, human: 0.1 } as const;
/** Share of AI orders of returning customers booked by an outbound campaign call. */
const CAMPAIGN_SHARE = 0.25;

/**
 * final_price / dealing_price: unchanged with probability `same`; upsold by 1 + Gamma(2, 2/0.15)
 * (mean +15 %); discounted by 1 − 0.5 × Beta(2, 8) (mean −10 %).
 */
export const PRICE_RATIO = { same: 0.65, upsell: 0.25, discount: 0.1, upsellMean: 0.15, discountMean: 0.1 } as const;
export const MEAN_PRICE_RATIO = PRICE_RATIO.same + PRICE_RATIO.upsell * (1 + PRICE_RATIO.upsellMean) + PRICE_RATIO.discount * (1 - PRICE_RATIO.discountMean);

/** Plans the generator sells: the seed's default ones plus a yearly plan it adds. */
export const PLANS = [
  { id: 'basic', name: 'Basic Plan', priceCents: 1500, interval: 'monthly', months: 1, mix: 0.45, cancelAtRenewal: 0.06 },
  { id: 'pro', name: 'Pro Plan', priceCents: 4900, interval: 'monthly', months: 1, mix: 0.3, cancelAtRenewal: 0.035 },
  { id: 'enterprise', name: 'Enterprise Plan', priceCents: 19900, interval: 'monthly', months: 1, mix: 0.1, cancelAtRenewal: 0.015 },
  { id: 'pro_yearly', name: 'Pro Plan (yearly)', priceCents: 49000, interval: 'yearly', months: 12, mix: 0.15, cancelAtRenewal: 0.25 },
] as const;
const TRIAL_DAYS = 14;
const PAST_DUE_PROBABILITY = 0.03;
const AI_AGENTS = 3;
const CAMPAIGNS = 2;
const STAFF = 4;
const FIELD_VENDORS = 60;
const BUSINESS_NUMBER = '+15550100000';

/** One order as every pass draws it, from (seed, STREAM_ORDER, customer, k) only. */
interface OrderDraw {
  id: string;
  orderId: string;
  origin: Origin;
  closer: 'ai' | 'human' | 'none';
  service: number;
  priority: number;
  dealingCents: number;
  estimatedCents: number;
  finalCents: number;
  status: string;
  assignedMs: number | null;
  scheduledMs: number | null;
  updatedMs: number;
  vendor: number;
  hasEmail: boolean;
  formattedPhone: boolean;
}

function utcMidnight(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Geometric number of failures before the first success (success probability p). */
function failuresBeforeSuccess(rng: Rng, p: number): number {
  return Math.floor(Math.log(1 - rng.next()) / Math.log(1 - p));
}

/** The customer's phone, E.164; `formatted` writes it the way people type it (the SQL strips it to digits). */
function phoneOf(i: number, formatted: boolean): string {
  const n = String(i).padStart(7, '0');
  return formatted ? `+1 555-${n.slice(0, 3)}-${n.slice(3)}` : `+1555${n}`;
}

/** A customer's orders as calendar times, BG/NBD in operational time. */
class Household {
  private readonly rng = new Rng(0);
  ms = new Float64Array(32);
  count = 0;
  lambda = 0;
  p = 0;

  constructor(private readonly seed: number, private readonly cal: Calendar) {}

  run(i: number): void {
    const rng = this.rng.reseed(this.seed, STREAM_CUSTOMER, i);
    const total = this.cal.totalOperational;
    let tau = rng.next() * total;
    this.lambda = gamma(rng, BGNBD.r, BGNBD.alpha);
    this.p = beta(rng, BGNBD.a, BGNBD.b);
    this.count = 0;
    this.push(this.cal.toCalendarMs(tau));
    for (;;) {
      tau += exponential(rng, 1) / this.lambda;
      if (!(tau < total)) break;
      this.push(this.cal.toCalendarMs(tau));
      if (rng.next() < this.p) break;
    }
  }

  private push(ms: number): void {
    if (this.count === this.ms.length) {
      const next = new Float64Array(this.ms.length * 2);
      next.set(this.ms);
      this.ms = next;
    }
    this.ms[this.count++] = ms;
  }
}

function drawPriceRatio(rng: Rng): number {
  const u = rng.next();
  if (u < PRICE_RATIO.same) return 1;
  if (u < PRICE_RATIO.same + PRICE_RATIO.upsell) return 1 + gamma(rng, 2, 2 / PRICE_RATIO.upsellMean);
  return 1 - 0.5 * beta(rng, 2, 8);
}

/**
 * Status as of the end of history: a job is completed an hour or three after its visit; a cancelled
 * one is cancelled within a day or so of booking; one whose visit or cancellation lies past the end
 * is still open (new → accepted → on_way in the hour before the visit → processing during it).
 */
function settleStatus(d: OrderDraw, createdMs: number, endMs: number, cancel: boolean, rng: Rng): void {
  const assignedMs = createdMs + exponential(rng, 1) * 2 * HOUR_MS;
  const scheduledMs = createdMs + HOUR_MS + exponential(rng, 1) * PRIORITY_LEAD_DAYS[d.priority]! * DAY_MS;
  const doneMs = scheduledMs + (1 + rng.next() * 2) * HOUR_MS;
  const cancelMs = createdMs + exponential(rng, 1) * 0.8 * DAY_MS;
  if (cancel && cancelMs < endMs) {
    d.status = 'cancelled';
    d.assignedMs = assignedMs < cancelMs ? assignedMs : null;
    d.scheduledMs = d.assignedMs !== null ? scheduledMs : null;
    d.updatedMs = cancelMs;
  } else if (!cancel && doneMs < endMs) {
    d.status = 'completed';
    d.assignedMs = assignedMs;
    d.scheduledMs = scheduledMs;
    d.updatedMs = doneMs;
  } else {
    const now = endMs - 1;
    d.assignedMs = assignedMs < now ? assignedMs : null;
    d.scheduledMs = d.assignedMs !== null ? scheduledMs : null;
    d.status = d.assignedMs === null ? 'new' : now < scheduledMs - HOUR_MS ? 'accepted' : now < scheduledMs ? 'on_way' : 'processing';
    d.updatedMs = d.assignedMs ?? createdMs;
  }
}

function drawOrder(seed: number, i: number, k: number, createdMs: number, endMs: number, rng: Rng): OrderDraw {
  rng.reseed(seed, STREAM_ORDER, i, k);
  const id = uuid(rng);
  const origin = ORIGINS[pickWeighted(ORIGIN_WEIGHTS, rng.next())]!;
  const closer = origin === 'ai' ? 'ai' : origin === 'web' ? 'none' : 'human';
  const service = pickWeighted(SERVICE_WEIGHTS, rng.next());
  const priority = pickWeighted(PRIORITY_WEIGHTS, rng.next());
  const dealingCents = Math.max(2000, Math.round(lognormalWithMean(rng, SERVICE_MEAN_PRICE[service]! * PRICE_MULTIPLIER[closer], PRICE_SIGMA) * 100));
  const estimatedCents = Math.round(dealingCents * rng.uniform(0.8, 1.2));
  const ratio = drawPriceRatio(rng);
  const d: OrderDraw = {
    id,
    orderId: `FS-${i.toString(36).toUpperCase()}-${k + 1}`,
    origin,
    closer,
    service,
    priority,
    dealingCents,
    estimatedCents,
    finalCents: Math.round(dealingCents * ratio),
    status: 'new',
    assignedMs: null,
    scheduledMs: null,
    updatedMs: createdMs,
    vendor: rng.int(0, FIELD_VENDORS - 1),
    hasEmail: rng.next() < 0.6,
    formattedPhone: rng.next() < 0.25,
  };
  settleStatus(d, createdMs, endMs, rng.next() < CANCEL_PROBABILITY[closer], rng);
  return d;
}

interface Ids {
  owner: string;
  staff: string[];
  vendors: string[];
  agents: string[];
  campaigns: string[];
}

function buildIds(seed: number, vendorCount: number): Ids {
  const rng = new Rng(seed, STREAM_STAFF);
  return {
    owner: uuid(rng),
    staff: Array.from({ length: STAFF }, () => uuid(rng)),
    vendors: Array.from({ length: vendorCount }, () => uuid(rng)),
    agents: Array.from({ length: AI_AGENTS }, () => 'agent_' + base62(rng, 16)),
    campaigns: Array.from({ length: CAMPAIGNS }, () => 'camp_' + base62(rng, 16)),
  };
}

/** How many customers give at least `target` orders (a counting pass; nothing is kept). */
function customersFor(target: number, hh: Household): { customers: number; orders: number } {
  let orders = 0;
  let i = 0;
  while (orders < target) {
    hh.run(i++);
    orders += hh.count;
  }
  return { customers: i, orders };
}

const ORDER_COLUMNS = [
  'id', 'order_id', 'customer_name', 'customer_phone', 'customer_address', 'customer_email', 'service_type', 'description', 'priority',
  'status', 'vendor_id', 'assigned_at', 'scheduled_date', 'dealing_price', 'invoice', 'estimated_value', 'created_by_role',
  'updated_by_role', 'created_at', 'updated_at',
] as const;

interface OrderTally {
  byStatus: Record<string, number>;
  /** Per closer: completed orders and Σ dealing cents (the KPI's AOV), and Σ dealing cents over all orders. */
  closer: Record<'ai' | 'human' | 'none', { orders: number; dealingCents: number; completed: number; cancelled: number }>;
  completedDealingCents: number;
  completedFinalCents: number;
}

function* orderRows(seed: number, cal: Calendar, hh: Household, customers: number, ids: Ids, tally: OrderTally): Generator<string> {
  const rng = new Rng(0);
  for (let i = 0; i < customers; i++) {
    hh.run(i);
    let chunk = '';
    for (let k = 0; k < hh.count; k++) {
      const createdMs = hh.ms[k]!;
      const d = drawOrder(seed, i, k, createdMs, cal.endMs, rng);
      const service = SERVICE_TYPES[d.service]!;
      const completed = d.status === 'completed';
      const invoice = completed
        ? { final_price: d.finalCents / 100, service_name: service, service_details: `${service} visit`, primary_contact: phoneOf(i, false), secondary_contact: '', invoice_url: `https://invoices.example.test/${d.orderId}.pdf` }
        : { final_price: 0, service_name: '', service_details: '', primary_contact: '', secondary_contact: '', invoice_url: '' };
      tally.byStatus[d.status] = (tally.byStatus[d.status] ?? 0) + 1;
      const c = tally.closer[d.closer];
      c.orders++;
      c.dealingCents += d.dealingCents;
      if (completed) {
        c.completed++;
        tally.completedDealingCents += d.dealingCents;
        tally.completedFinalCents += d.finalCents;
      }
      if (d.status === 'cancelled') c.cancelled++;
      chunk += csvRow([
        d.id, d.orderId, `Customer ${i}`, phoneOf(i, d.formattedPhone), `${100 + (i % 900)} Main St`, d.hasEmail ? `c${i}@example.test` : null,
        service, `${service} job`, PRIORITIES[d.priority]!, d.status,
        d.assignedMs === null ? null : ids.vendors[d.vendor % ids.vendors.length]!,
        d.assignedMs === null ? null : formatTimestamp(d.assignedMs) + '+00',
        d.scheduledMs === null ? null : formatTimestamp(d.scheduledMs) + '+00',
        formatCents(d.dealingCents), JSON.stringify(invoice), formatCents(d.estimatedCents), ROLE_OF[d.origin],
        d.status === 'completed' ? 'vendor' : 'system', formatTimestamp(createdMs) + '+00', formatTimestamp(d.updatedMs) + '+00',
      ]);
    }
    if (chunk) yield chunk;
  }
}

const CALL_COLUMNS = [
  'id', 'user_id', 'agent_id', 'campaign_id', 'twilio_call_id', 'elevenlabs_conversation_id', 'from_number', 'to_number', 'status',
  'duration_ms', 'cost_usd', 'created_at', 'answered_at', 'completed_at', 'metadata',
] as const;

interface CallTally {
  byKind: Record<Exclude<Origin, 'web'>, { calls: number; converted: number; missed: number }>;
}

/**
 * The calls of every order with a call origin: Geometric(p) calls that booked nothing, each some days
 * before the order (never before the history starts), then the converting call, which starts a few
 * minutes before the order is created and names it in metadata.order_id when it ends.
 */
function* callRows(seed: number, cal: Calendar, hh: Household, customers: number, ids: Ids, tally: CallTally): Generator<string> {
  const orderRng = new Rng(0);
  const rng = new Rng(0);
  for (let i = 0; i < customers; i++) {
    hh.run(i);
    let chunk = '';
    for (let k = 0; k < hh.count; k++) {
      const createdMs = hh.ms[k]!;
      const d = drawOrder(seed, i, k, createdMs, cal.endMs, orderRng);
      if (d.origin === 'web') continue;
      const kind = d.origin;
      rng.reseed(seed, STREAM_CALLS, i, k);
      const campaign = kind === 'ai' && k > 0 && rng.next() < CAMPAIGN_SHARE ? ids.campaigns[rng.int(0, CAMPAIGNS - 1)]! : null;
      const failures = failuresBeforeSuccess(rng, CONVERSION[kind]);
      for (let f = 0; f < failures; f++) {
        let startMs = createdMs - exponential(rng, 1) * 2 * DAY_MS;
        if (startMs < cal.startMs) startMs = cal.startMs + rng.next() * (createdMs - cal.startMs);
        chunk += callRow(rng, ids, i, kind, campaign, Math.floor(startMs), null, tally);
      }
      const answerLead = (2 + rng.next() * 8) * MIN_MS;
      chunk += callRow(rng, ids, i, kind, campaign, Math.floor(createdMs - answerLead), d.orderId, tally);
    }
    if (chunk) yield chunk;
  }
}

function callRow(rng: Rng, ids: Ids, customer: number, kind: Exclude<Origin, 'web'>, campaign: string | null, startMs: number, orderId: string | null, tally: CallTally): string {
  const ai = kind !== 'staff';
  const who = ai ? 'ai' : 'human';
  const t = tally.byKind[kind];
  t.calls++;
  if (orderId) t.converted++;
  // A converting call is always answered; one that booked nothing may have rung out.
  const missed = orderId === null && rng.next() < MISSED_CALL_PROBABILITY[who];
  if (missed) t.missed++;
  const answeredMs = missed ? null : startMs + lognormalWithMean(rng, ANSWER_SECONDS[who], ANSWER_SIGMA) * 1000;
  const talkMs = missed ? 0 : Math.round(lognormalWithMean(rng, orderId ? 240 : 120, 0.5) * 1000);
  const endMs = (answeredMs ?? startMs + 30_000) + talkMs;
  const outbound = campaign !== null;
  const phone = phoneOf(customer, false);
  const metadata: Record<string, unknown> = { direction: outbound ? 'outbound' : 'inbound' };
  if (ai) metadata.escalated_to_human = kind === 'escalated';
  if (orderId) metadata.order_id = orderId;
  const costPerMinute = ai ? 0.09 : 0.014;
  return csvRow([
    uuid(rng), ids.owner, ai ? ids.agents[rng.int(0, AI_AGENTS - 1)]! : null, campaign, 'CA' + base62(rng, 32),
    ai ? 'conv_' + base62(rng, 20) : null,
    outbound ? BUSINESS_NUMBER : phone, outbound ? phone : BUSINESS_NUMBER,
    missed ? (ai ? 'failed' : 'cancelled') : 'completed', talkMs, (Math.round((talkMs / 60_000) * costPerMinute * 10_000) / 10_000).toFixed(4),
    formatTimestamp(startMs) + '+00', answeredMs === null ? null : formatTimestamp(answeredMs) + '+00', formatTimestamp(endMs) + '+00',
    JSON.stringify(metadata),
  ]);
}

const PROFILE_COLUMNS = ['id', 'role', 'full_name', 'email', 'phone', 'status', 'services', 'created_at', 'updated_at', 'created_by_role'] as const;

function* profileRows(ids: Ids, startMs: number, vendorCreatedMs: (v: number) => number): Generator<string> {
  const at = formatTimestamp(startMs - 400 * DAY_MS) + '+00';
  yield csvRow([ids.owner, 'admin', 'Owner', 'owner@example.test', BUSINESS_NUMBER, 'active', null, at, at, 'system']);
  for (let s = 0; s < ids.staff.length; s++) yield csvRow([ids.staff[s]!, 'admin', `Staff ${s}`, `staff${s}@example.test`, `+1555020${String(s).padStart(4, '0')}`, 'active', null, at, at, 'admin']);
  for (let v = 0; v < ids.vendors.length; v++) {
    const created = formatTimestamp(vendorCreatedMs(v)) + '+00';
    const services = `{${SERVICE_TYPES[v % SERVICE_TYPES.length]},${SERVICE_TYPES[(v + 2) % SERVICE_TYPES.length]}}`;
    yield csvRow([ids.vendors[v]!, 'vendor', `Vendor ${v}`, `vendor${v}@example.test`, `+1555030${String(v).padStart(4, '0')}`, 'active', services, created, created, 'admin']);
  }
}

interface SubscriptionDraw {
  id: string;
  plan: string;
  status: string;
  startMs: number;
  periodStartMs: number;
  periodEndMs: number;
  canceledMs: number | null;
}

/**
 * Vendor v's subscription: starts uniformly in the year before the history and the history itself;
 * at each renewal before the end it is not renewed with the plan's probability (then canceled at the
 * renewal instant). One that started within TRIAL_DAYS of the end is, half the time, still trialing.
 */
function drawSubscription(seed: number, v: number, cal: Calendar): SubscriptionDraw {
  const rng = new Rng(seed, STREAM_SUBS, v);
  const id = uuid(rng);
  const from = cal.startMs - 365 * DAY_MS;
  const startMs = Math.floor(from + rng.next() * (cal.endMs - from));
  if (cal.endMs - startMs < TRIAL_DAYS * DAY_MS && rng.next() < 0.5) {
    return { id, plan: 'trial', status: 'trialing', startMs, periodStartMs: startMs, periodEndMs: startMs + TRIAL_DAYS * DAY_MS, canceledMs: null };
  }
  const plan = PLANS[pickWeighted(PLANS.map((p) => p.mix), rng.next())]!;
  let periodStart = startMs;
  let periodEnd = addMonthsUtc(startMs, plan.months);
  for (let k = 1; periodEnd < cal.endMs; k++) {
    if (rng.next() < plan.cancelAtRenewal) return { id, plan: plan.id, status: 'canceled', startMs, periodStartMs: periodStart, periodEndMs: periodEnd, canceledMs: periodEnd };
    periodStart = periodEnd;
    periodEnd = addMonthsUtc(startMs, (k + 1) * plan.months);
  }
  return { id, plan: plan.id, status: rng.next() < PAST_DUE_PROBABILITY ? 'past_due' : 'active', startMs, periodStartMs: periodStart, periodEndMs: periodEnd, canceledMs: null };
}

function* subscriptionRows(seed: number, cal: Calendar, ids: Ids, byStatus: Record<string, number>): Generator<string> {
  for (let v = 0; v < ids.vendors.length; v++) {
    const s = drawSubscription(seed, v, cal);
    byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
    const ts = (ms: number | null) => (ms === null ? null : formatTimestamp(ms) + '+00');
    yield csvRow([s.id, ids.vendors[v]!, s.plan, s.status, ts(s.periodStartMs), ts(s.periodEndMs), ts(s.canceledMs), ts(s.startMs), ts(s.canceledMs ?? s.periodStartMs)]);
  }
}

/** Vendors = subscribers: enough for churn to be measurable, and at least the field vendors orders use. */
function vendorCount(targetOrders: number): number {
  return Math.max(FIELD_VENDORS, 300, Math.round(targetOrders / 15));
}

export const generateFieldServices: ProfileGenerator = async (client: pg.ClientBase, opts: ProfileGenerateOptions): Promise<ProfileTruth> => {
  const seed = opts.seed ?? 42;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const targetOrders = positiveInt('orders', opts.orders ?? 20_000);
  const days = positiveInt('days', opts.days ?? 365);
  const cal = new Calendar(utcMidnight(opts.end ?? new Date()), days);
  await client.query("SET TimeZone = 'UTC'");

  const hh = new Household(seed, cal);
  const { customers } = customersFor(targetOrders, hh);
  const ids = buildIds(seed, vendorCount(targetOrders));
  const tables: Record<string, number> = {};
  const vendorCreated = (v: number) => Math.min(drawSubscription(seed, v, cal).startMs, cal.startMs) - DAY_MS;

  tables.user_profiles = await copyRows(client, 'user_profiles', PROFILE_COLUMNS, profileRows(ids, cal.startMs, vendorCreated));
  const setupAt = formatTimestamp(cal.startMs - 300 * DAY_MS) + '+00';
  tables.ai_agents = await copyRows(client, 'ai_agents', ['id', 'user_id', 'name', 'description', 'status', 'created_at'],
    ids.agents.map((a, n) => csvRow([a, ids.owner, `Booking agent ${n + 1}`, 'Answers service calls and books jobs', 'active', setupAt])));
  tables.calling_campaigns = await copyRows(client, 'calling_campaigns', ['id', 'user_id', 'agent_id', 'name', 'phone_number', 'status', 'created_at'],
    ids.campaigns.map((c, n) => csvRow([c, ids.owner, ids.agents[n % AI_AGENTS]!, `Reactivation ${n + 1}`, BUSINESS_NUMBER, 'active', setupAt])));
  await client.query(`INSERT INTO subscription_plans (id, name, price_usd, billing_interval, created_at) VALUES ($1, $2, $3, $4, $5)`,
    [PLANS[3].id, PLANS[3].name, formatCents(PLANS[3].priceCents), PLANS[3].interval, setupAt]);

  const subsByStatus: Record<string, number> = {};
  tables.user_subscriptions = await copyRows(client, 'user_subscriptions',
    ['id', 'user_id', 'plan_id', 'status', 'current_period_start', 'current_period_end', 'canceled_at', 'created_at', 'updated_at'],
    subscriptionRows(seed, cal, ids, subsByStatus));

  const none = () => ({ orders: 0, dealingCents: 0, completed: 0, cancelled: 0 });
  const orderTally: OrderTally = { byStatus: {}, closer: { ai: none(), human: none(), none: none() }, completedDealingCents: 0, completedFinalCents: 0 };
  // Orders and calls are yielded one customer's chunk at a time, so their rows are counted in the tallies.
  await copyRows(client, 'orders', ORDER_COLUMNS, orderRows(seed, cal, hh, customers, ids, orderTally));
  tables.orders = Object.values(orderTally.byStatus).reduce((a, b) => a + b, 0);
  const callTally: CallTally = { byKind: { ai: { calls: 0, converted: 0, missed: 0 }, escalated: { calls: 0, converted: 0, missed: 0 }, staff: { calls: 0, converted: 0, missed: 0 } } };
  await copyRows(client, 'call_sessions', CALL_COLUMNS, callRows(seed, cal, hh, customers, ids, callTally));
  tables.call_sessions = Object.values(callTally.byKind).reduce((a, k) => a + k.calls, 0);
  await client.query('ANALYZE');

  return buildTruth({ seed, targetOrders, days, cal, customers, tables, orderTally, callTally, subsByStatus });
};

interface TruthInputs {
  seed: number;
  targetOrders: number;
  days: number;
  cal: Calendar;
  customers: number;
  tables: Record<string, number>;
  orderTally: OrderTally;
  callTally: CallTally;
  subsByStatus: Record<string, number>;
}

/** Mean agreed price of a closer's orders: the service mix's mean price × its multiplier. */
function trueAov(multiplier: number): number {
  const base = SERVICE_WEIGHTS.reduce((s, w, t) => s + w * SERVICE_MEAN_PRICE[t]!, 0);
  return Math.round(base * multiplier * 1e6) / 1e6;
}

function buildTruth(x: TruthInputs): ProfileTruth {
  const { byKind } = x.callTally;
  const aiCalls = byKind.ai.calls + byKind.escalated.calls;
  // Expected share of AI calls escalated: escalated calls per AI call, from the origin mix and 1/p calls per order.
  const aiPer = ORIGIN_WEIGHTS[0]! / CONVERSION.ai;
  const escPer = ORIGIN_WEIGHTS[1]! / CONVERSION.escalated;
  const dollars = (c: number) => Math.round(c) / 100;
  return {
    generator: 'field-services',
    seed: x.seed,
    start: isoString(x.cal.startMs),
    end: isoString(x.cal.endMs),
    currency: 'USD',
    tenants: ['default'],
    orders: x.tables.orders ?? 0,
    closers: {
      // By first responder, as the AI-vs-admin endpoint counts them: 'ai' = every AI-agent call, the
      // escalated ones included (each kind's calls weigh in as orders share / conversion); 'human' =
      // staff calls. AOV by who created the order: 'ai_agent' vs 'admin' (staff and escalated calls).
      ai: { conversion: (ORIGIN_WEIGHTS[0]! + ORIGIN_WEIGHTS[1]!) / (aiPer + escPer), aov: trueAov(PRICE_MULTIPLIER.ai) },
      human: { conversion: CONVERSION.staff, aov: trueAov(PRICE_MULTIPLIER.human) },
    },
    extra: {
      options: { seed: x.seed, orders: x.targetOrders, days: x.days, end: isoString(x.cal.endMs) },
      customers: { model: 'BG/NBD', ...BGNBD, time_unit: 'operational day (calendar.ts)', count: x.customers, key: 'orders.customer_phone, digits only' },
      intensity: {
        weekly_factors: Object.fromEntries(WEEKDAY_NAMES.map((d, i) => [d, WEEKLY_FACTORS[i]!])),
        trend_growth_per_year: TREND_GROWTH_PER_YEAR,
      },
      origins: Object.fromEntries(ORIGINS.map((o, i) => [o, { share: ORIGIN_WEIGHTS[i]!, created_by_role: ROLE_OF[o] }])),
      conversion: { ...CONVERSION, mixed_means: 'AI call with metadata.escalated_to_human = true; its orders are created by admin (human closer)' },
      escalation_rate_expected: escPer / (aiPer + escPer),
      price_multiplier: { ...PRICE_MULTIPLIER },
      aov_mixed: trueAov(PRICE_MULTIPLIER.human),
      aov_web: trueAov(PRICE_MULTIPLIER.none),
      cancel_probability: { ...CANCEL_PROBABILITY },
      answer_seconds: { mean: { ...ANSWER_SECONDS }, log_sd: ANSWER_SIGMA,
        median: { ai: ANSWER_SECONDS.ai * Math.exp(-(ANSWER_SIGMA ** 2) / 2), human: ANSWER_SECONDS.human * Math.exp(-(ANSWER_SIGMA ** 2) / 2) } },
      missed_call_probability: { ...MISSED_CALL_PROBABILITY, applies_to: 'calls that booked nothing' },
      services: SERVICE_TYPES.map((s, t) => ({ service_type: s, weight: SERVICE_WEIGHTS[t], mean_price: SERVICE_MEAN_PRICE[t], log_sd: PRICE_SIGMA })),
      price_ratio: { ...PRICE_RATIO, mean: MEAN_PRICE_RATIO, definition: 'invoice.final_price / dealing_price of completed orders' },
      plans: PLANS.map((p) => ({ ...p, price: p.priceCents / 100, monthly_amount: Math.round(p.priceCents / p.months) / 100 })),
      subscriptions: { count: x.tables.user_subscriptions, by_status: x.subsByStatus, trial_days: TRIAL_DAYS, past_due_probability: PAST_DUE_PROBABILITY,
        churn: 'not renewed at each renewal with the plan\'s cancelAtRenewal; canceled_at = the renewal instant' },
      tables: x.tables,
      realised: {
        orders_by_status: x.orderTally.byStatus,
        by_closer: Object.fromEntries(Object.entries(x.orderTally.closer).map(([k, v]) => [k, { ...v, dealing: dollars(v.dealingCents) }])),
        calls: byKind,
        ai_calls: aiCalls,
        completed_dealing: dollars(x.orderTally.completedDealingCents),
        completed_final: dollars(x.orderTally.completedFinalCents),
      },
    },
  };
}
