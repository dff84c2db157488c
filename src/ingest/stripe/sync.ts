import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type Stripe from 'stripe';
import type { Logger } from 'pino';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../../config.ts';
import { csvRow } from '../../synth/copy.ts';
import { dropScratch, type Warehouse } from '../../warehouse/warehouse.ts';
import { ENTITIES, type EntitySpec } from '../entities.ts';
import { advanceWatermark, getWatermark, loadBatch, type BatchHooks, type BatchResult } from '../load-batch.ts';
import { sqlString as q } from '../merge-sql.ts';
import { scratchFile } from '../run.ts';
import { listAll, type ListName, type RetryPolicy } from './client.ts';
import { supersession } from './dedupe.ts';
import {
  chargeSchema, disputeSchema, mapCharge, mapPaymentIntent, mapSubscription, paymentIntentSchema, refundSchema, subscriptionSchema, timestamp,
  type Charge, type Dispute, type Links, type PaymentRow, type Refund, type SubscriptionRow,
} from './map.ts';

export interface StripeSyncContext {
  config: Pick<Config, 'TENANT_ID' | 'DUCKDB_PATH' | 'STRIPE_OVERLAP_MINUTES' | 'STRIPE_RESYNC_DAYS' | 'STRIPE_RETRIES' | 'STRIPE_RETRY_BASE_MS' | 'STRIPE_RETRY_MAX_MS'>;
  warehouse: Warehouse;
  stripe: Stripe;
  logger?: Logger;
  /** Clock (tests). */
  now?: () => Date;
}

/**
 * `incremental`: objects created since each list's watermark less the overlap, plus the events since
 * the events watermark (the later changes of older objects). `resync`: objects created in the
 * trailing STRIPE_RESYNC_DAYS, whatever the watermarks, for anything the events missed. `full`:
 * every object. An incremental run whose events watermark is older than Stripe keeps events (30
 * days) cannot see every change since, and runs as `full`.
 */
export type StripeSyncMode = 'incremental' | 'resync' | 'full';

export interface StripeSyncResult {
  mode: StripeSyncMode;
  /** Objects read per list. */
  read: Partial<Record<ListName, number>>;
  retries: number;
  payments: BatchResult | null;
  subscriptions: BatchResult | null;
  rejected: number;
}

/** Stripe keeps events for 30 days; past 29 the next events page may already have lost some. */
const EVENTS_KEPT_DAYS = 29;
/** Canonical rows derived per batch (each a load of its own). */
const CHUNK = 5_000;

/** Which canonical row an object feeds: its own, or its PaymentIntent's / charge's. */
const OBJECT_TYPES = ['payment_intent', 'charge', 'refund', 'dispute', 'invoice', 'subscription'] as const;

/** Object lists read by `created` (events separately). */
const OBJECT_LISTS: ListName[] = ['payment_intents', 'charges', 'refunds', 'invoices', 'subscriptions'];
/** Event families whose objects change canonical rows; Stripe's `type` filter takes one wildcard. */
const EVENT_FAMILIES = ['payment_intent.*', 'charge.*', 'refund.*', 'customer.subscription.*', 'invoice.*'];

/** ingest_state's and rejected_rows' source of a tenant's Stripe rows: this prefix and the tenant. */
export const STRIPE_SOURCE_PREFIX = 'stripe:';
export const stripeSource = (tenantId: string): string => `${STRIPE_SOURCE_PREFIX}${tenantId}`;

interface Line { type: string; id: string; parent: string | null; key_type: 'payment' | 'subscription' | null; created: string; seen_at: string; data: unknown }

/** The canonical key an object feeds and the parent it is looked up by. */
export function keyOf(obj: { object?: string; id: string; payment_intent?: unknown; charge?: unknown }): Pick<Line, 'parent' | 'key_type'> {
  const idOf = (v: unknown) => (typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : null);
  switch (obj.object) {
    case 'payment_intent': return { parent: obj.id, key_type: 'payment' };
    case 'charge': return { parent: idOf(obj.payment_intent) ?? obj.id, key_type: 'payment' };
    case 'refund':
    case 'dispute': {
      const parent = idOf(obj.payment_intent) ?? idOf(obj.charge);
      return { parent, key_type: parent ? 'payment' : null };
    }
    case 'subscription': return { parent: obj.id, key_type: 'subscription' };
    default: return { parent: null, key_type: null };
  }
}

/**
 * One Stripe sync: read the lists (and events) into a scratch file, then in ONE transaction upsert
 * the objects into stripe_objects (a version replaces the stored one only if seen later), queue the
 * canonical rows they feed in stripe_pending and advance the watermarks. Then derive the queued rows
 * and load them, each batch deleting its queue entries in its own transaction. A failure while
 * reading leaves everything as it was (the watermarks included), so the next run reads it again; a
 * failure while deriving leaves the queue, which the next run works off first.
 */
export async function syncStripe(ctx: StripeSyncContext, opts: { mode?: StripeSyncMode; jobRunId?: number | null; hooks?: BatchHooks } = {}): Promise<StripeSyncResult> {
  const tenant = ctx.config.TENANT_ID;
  const source = stripeSource(tenant);
  const now = ctx.now?.() ?? new Date();
  const nowS = Math.floor(now.getTime() / 1000);
  let mode = opts.mode ?? 'incremental';
  const eventsWm = await getWatermark(ctx.warehouse, source, 'events');
  if (mode === 'incremental' && eventsWm && nowS - toUnix(eventsWm) > EVENTS_KEPT_DAYS * 86_400) {
    ctx.logger?.warn({ eventsWatermark: eventsWm }, 'Stripe events since the last sync are partly gone (30-day window): re-reading every object');
    mode = 'full';
  }
  let retries = 0;
  const retry: RetryPolicy = {
    retries: ctx.config.STRIPE_RETRIES, baseMs: ctx.config.STRIPE_RETRY_BASE_MS, maxMs: ctx.config.STRIPE_RETRY_MAX_MS,
    onRetry: (info) => {
      retries++;
      ctx.logger?.warn(info, 'Stripe list failed; backing off');
    },
  };
  const file = scratchFile(ctx, 'stripe', 'ndjson');
  const out = createWriteStream(file);
  const write = (line: Line) => (out.write(JSON.stringify(line) + '\n') ? undefined : new Promise<void>((r) => out.once('drain', () => r())));
  const read: StripeSyncResult['read'] = {};
  const highest: Record<string, number> = {};
  // Objects from the lists are as of this run's start; an event's object as of the event.
  const seenAt = timestamp(nowS);
  try {
    for (const list of OBJECT_LISTS) {
      const wm = await getWatermark(ctx.warehouse, source, list);
      const gte = mode === 'full' || (mode === 'incremental' && !wm) ? null
        : mode === 'resync' ? nowS - ctx.config.STRIPE_RESYNC_DAYS * 86_400
        : toUnix(wm!) - ctx.config.STRIPE_OVERLAP_MINUTES * 60;
      const params: Record<string, unknown> = gte === null ? {} : { created: { gte } };
      if (list === 'subscriptions') params.status = 'all';
      read[list] = await listAll(ctx.stripe, list, params, async (item) => {
        highest[list] = Math.max(highest[list] ?? 0, item.created);
        const obj = item as unknown as { object: string; id: string; created: number };
        await write({ type: obj.object, id: obj.id, ...keyOf(obj), created: timestamp(obj.created), seen_at: seenAt, data: obj });
      }, retry);
    }
    // The first sync read every object as it is now: events matter from here on.
    if (eventsWm) {
      const gt = toUnix(eventsWm) - ctx.config.STRIPE_OVERLAP_MINUTES * 60;
      let n = 0;
      for (const type of EVENT_FAMILIES) {
        n += await listAll(ctx.stripe, 'events', { type, created: { gt } }, async (item) => {
          highest.events = Math.max(highest.events ?? 0, item.created);
          const event = item as unknown as { created: number; data: { object: { object: string; id: string; created?: number } } };
          const obj = event.data.object;
          if (!(OBJECT_TYPES as readonly string[]).includes(obj.object)) return;
          await write({ type: obj.object, id: obj.id, ...keyOf(obj), created: timestamp(obj.created ?? event.created), seen_at: timestamp(event.created), data: obj });
        }, retry);
      }
      read.events = n;
    }
    // Every event up to this run's start has been read (or, on a first or full run, every object as
    // it is now): a quiet month without events must not look like a gap.
    highest.events = Math.max(highest.events ?? 0, nowS);
    out.end();
    await finished(out);
    await ctx.warehouse.transaction(async (conn) => {
      await storeObjects(conn, tenant, file);
      for (const [list, created] of Object.entries(highest)) await advanceWatermark(conn, source, list, timestamp(created));
      await opts.hooks?.beforeCommit?.('stripe_objects');
    });
  } finally {
    out.destroy();
    await rm(file, { force: true });
  }
  await relink(ctx.warehouse, tenant);
  const payments = await deriveAll(ctx, 'payment', opts);
  const subscriptions = await deriveAll(ctx, 'subscription', opts);
  return { mode, read, retries, payments, subscriptions, rejected: (payments?.rejected ?? 0) + (subscriptions?.rejected ?? 0) };
}

const toUnix = (ts: string): number => Math.floor(Date.parse(`${ts.replace(' ', 'T')}Z`) / 1000);

/** The file's objects into stripe_objects (the latest seen version of each) and their keys into the queue. */
async function storeObjects(conn: DuckDBConnection, tenant: string, file: string): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE _stripe_in AS SELECT * FROM read_json(${q(file)}, format = 'newline_delimited',
      columns = {type: 'VARCHAR', id: 'VARCHAR', parent: 'VARCHAR', key_type: 'VARCHAR', created: 'TIMESTAMP', seen_at: 'TIMESTAMP', data: 'JSON'})
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY seen_at DESC) = 1`);
  try {
    await conn.run(`INSERT INTO stripe_objects SELECT ${q(tenant)}, type, id, parent, created, seen_at, data FROM _stripe_in
      ON CONFLICT (tenant_id, id) DO UPDATE SET type = excluded.type, parent = excluded.parent, created = excluded.created,
        seen_at = excluded.seen_at, data = excluded.data
      WHERE excluded.seen_at >= stripe_objects.seen_at`);
    await conn.run(`INSERT OR IGNORE INTO stripe_pending SELECT DISTINCT ${q(tenant)}, key_type, parent FROM _stripe_in WHERE key_type IS NOT NULL`);
  } finally {
    await dropScratch(conn, ['_stripe_in']);
  }
}

/**
 * Queues the Stripe payments whose links to the source moved since they were derived: the database
 * row that keeps their Stripe id arrived or changed its customer, product or order, or their Stripe
 * customer became one of ours. (A lagging database usually learns of a payment after Stripe does.)
 */
async function relink(wh: Warehouse, tenant: string): Promise<void> {
  await wh.transaction(async (conn) => {
    // Two equi-joins, not one join on either id: an OR in the condition is a nested loop.
    for (const by of ['payment_id', 'external_id']) {
      await conn.run(`INSERT OR IGNORE INTO stripe_pending
        SELECT DISTINCT s.tenant_id, 'payment', s.payment_id FROM payments s JOIN payments d
          ON d.tenant_id = s.tenant_id AND d.source = 'db' AND d.external_id = s.${by}
        WHERE s.tenant_id = ${q(tenant)} AND s.source = 'stripe'
          AND (s.customer_id IS DISTINCT FROM d.customer_id OR s.product_id IS DISTINCT FROM coalesce(d.product_id, s.product_id)
            OR s.order_id IS DISTINCT FROM coalesce(d.order_id, s.order_id))`);
    }
    for (const [table, type, key] of [['payments', 'payment', 'payment_id'], ['subscriptions', 'subscription', 'subscription_id']] as const) {
      await conn.run(`INSERT OR IGNORE INTO stripe_pending
        SELECT DISTINCT s.tenant_id, '${type}', s.${key} FROM ${table} s JOIN customers c ON c.tenant_id = s.tenant_id AND c.external_id = s.customer_id
        WHERE s.tenant_id = ${q(tenant)} AND s.source = 'stripe'`);
    }
  });
}

const PAYMENT_COLUMNS = ['payment_id', 'source', 'external_id', 'order_id', 'customer_id', 'product_id', 'amount', 'currency', 'status', 'raw_status',
  'refunded_amount', 'created_at', 'completed_at', '_cursor_ts'] as const satisfies readonly (keyof PaymentRow)[];
const SUBSCRIPTION_COLUMNS = ['subscription_id', 'customer_id', 'plan_id', 'plan_name', 'monthly_amount', 'currency', 'status', 'raw_status', 'started_at',
  'current_period_end', 'cancelled_at', 'source', 'external_id', '_cursor_ts'] as const satisfies readonly (keyof SubscriptionRow)[];

/** Works the queue of one kind off in chunks; the results of every chunk, summed. */
async function deriveAll(ctx: StripeSyncContext, kind: 'payment' | 'subscription', opts: { jobRunId?: number | null; hooks?: BatchHooks }): Promise<BatchResult | null> {
  let total: BatchResult | null = null;
  for (;;) {
    const keys = (await ctx.warehouse.query<{ id: string }>(
      `SELECT id FROM stripe_pending WHERE tenant_id = $t AND type = $k ORDER BY id LIMIT ${CHUNK}`, { t: ctx.config.TENANT_ID, k: kind })).map((r) => r.id);
    if (keys.length === 0) return total;
    const r = await deriveChunk(ctx, kind, keys, opts);
    total = total
      ? { rowsIn: total.rowsIn + r.rowsIn, rowsOut: total.rowsOut + r.rowsOut, rejected: total.rejected + r.rejected, watermark: r.watermark ?? total.watermark }
      : r;
  }
}

interface Rejection { key: string; reason: string; payload: unknown }

async function deriveChunk(ctx: StripeSyncContext, kind: 'payment' | 'subscription', keys: string[], opts: { jobRunId?: number | null; hooks?: BatchHooks }): Promise<BatchResult> {
  const tenant = ctx.config.TENANT_ID;
  const wh = ctx.warehouse;
  const keyList = keys.map(q).join(', ');
  // Parsed once here: an object is read for its customer and again by each key it feeds.
  const objects = (await wh.query<{ type: string; id: string; parent: string | null; data: string; seen_at: string }>(`
    SELECT type, id, parent, data::VARCHAR AS data, seen_at::VARCHAR AS seen_at FROM stripe_objects
    WHERE tenant_id = $t AND (id IN (${keyList}) OR parent IN (${keyList}))`, { t: tenant }))
    .map((o) => ({ ...o, data: JSON.parse(o.data) as Record<string, unknown> }));
  const wanted = new Set(keys);
  const byKey = new Map<string, typeof objects>();
  for (const o of objects) {
    for (const k of new Set([o.id, o.parent])) {
      if (k === null || !wanted.has(k)) continue;
      const list = byKey.get(k) ?? [];
      list.push(o);
      byKey.set(k, list);
    }
  }
  const stripeCustomers = new Set<string>();
  const stripeIds = new Set<string>();
  for (const o of objects) {
    const customer = typeof o.data.customer === 'string' ? o.data.customer : null;
    if (customer) stripeCustomers.add(customer);
    stripeIds.add(o.id);
  }
  const customers = new Map((stripeCustomers.size === 0 ? [] : await wh.query<{ external_id: string; customer_id: string }>(
    `SELECT external_id, min(customer_id) AS customer_id FROM customers WHERE tenant_id = $t AND external_id IN (${[...stripeCustomers].map(q).join(', ')}) GROUP BY 1`,
    { t: tenant })).map((r) => [r.external_id, r.customer_id]));
  const dbPayments = new Map((kind !== 'payment' || stripeIds.size === 0 ? [] : await wh.query<{ external_id: string; customer_id: string | null; product_id: string | null; order_id: string | null }>(
    `SELECT external_id, arg_min(customer_id, payment_id) AS customer_id, arg_min(product_id, payment_id) AS product_id, arg_min(order_id, payment_id) AS order_id
     FROM payments WHERE tenant_id = $t AND source = 'db' AND external_id IN (${[...stripeIds].map(q).join(', ')}) GROUP BY 1`, { t: tenant }))
    .map((r) => [r.external_id, r]));

  const rows: (PaymentRow | SubscriptionRow)[] = [];
  const rejections: Rejection[] = [];
  for (const key of keys) {
    const group = byKey.get(key) ?? [];
    const seen = group.reduce((m, o) => (o.seen_at > m ? o.seen_at : m), '');
    try {
      const row = kind === 'payment' ? derivePayment(key, group, customers, dbPayments, seen)
        : deriveSubscription(key, group, customers, seen);
      if (row) rows.push(row);
    } catch (err) {
      rejections.push({ key, reason: (err as Error).message, payload: group.map((o) => o.data) });
    }
  }
  const spec: EntitySpec = ENTITIES[kind === 'payment' ? 'payments' : 'subscriptions']!;
  const header = ['tenant_id', ...(kind === 'payment' ? PAYMENT_COLUMNS : SUBSCRIPTION_COLUMNS)];
  const path = scratchFile(ctx, `stripe-${spec.entity}`);
  const csv = createWriteStream(path);
  csv.write(csvRow(header));
  for (const row of rows) csv.write(csvRow([tenant, ...header.slice(1).map((c) => (row as unknown as Record<string, string | null>)[c] ?? null)]));
  csv.end();
  await finished(csv);
  const done = `DELETE FROM stripe_pending WHERE tenant_id = ${q(tenant)} AND type = ${q(kind)} AND id IN (${keyList})`;
  try {
    const result = await loadBatch(wh, {
      source: stripeSource(tenant), spec, input: { header, path }, jobRunId: opts.jobRunId ?? null, hooks: opts.hooks,
      around: {
        before: async (conn, staged) => {
          if (kind === 'payment') await supersession.before(conn, staged);
        },
        after: async (conn) => {
          if (kind === 'payment') await supersession.after(conn, spec.delta!.columns);
          await recordRejections(conn, stripeSource(tenant), spec.entity, tenant, rejections, opts.jobRunId ?? null);
          // The queue entries go with the rows derived from them: a crash before COMMIT keeps both as they were.
          await conn.run(done);
        },
      },
    });
    return { ...result, rowsIn: result.rowsIn + rejections.length, rejected: result.rejected + rejections.length };
  } finally {
    await rm(path, { force: true });
  }
}

type Obj = { type: string; data: Record<string, unknown> };

function parseOr<T>(schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, v: unknown, what: string): T {
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  throw new Error(`invalid Stripe ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(object)'}: ${i.message}`).join('; ')}`);
}

function derivePayment(key: string, group: Obj[], customers: Map<string, string>, dbPayments: Map<string, Links['db'] & object>, seen: string): PaymentRow | null {
  const pick = (type: string) => group.filter((o) => o.type === type).map((o) => o.data);
  const charges: Charge[] = pick('charge').map((d) => parseOr(chargeSchema, d, 'charge'));
  const refunds: Refund[] = pick('refund').map((d) => parseOr(refundSchema, d, 'refund'));
  const disputes: Dispute[] = pick('dispute').map((d) => parseOr(disputeSchema, d, 'dispute'));
  const piData = group.find((o) => o.type === 'payment_intent' && o.data.id === key);
  if (piData) {
    const pi = parseOr(paymentIntentSchema, piData.data, 'payment_intent');
    const links: Links = {
      customerId: pi.customer ? customers.get(pi.customer) ?? null : null,
      db: dbPayments.get(pi.id) ?? (pi.latest_charge ? dbPayments.get(pi.latest_charge) : undefined) ?? null,
    };
    return mapPaymentIntent(pi, { charges, refunds, disputes }, links, seen);
  }
  const charge = charges.find((c) => c.id === key && c.payment_intent === null);
  if (charge) {
    return mapCharge(charge, { refunds, disputes }, { customerId: charge.customer ? customers.get(charge.customer) ?? null : null, db: dbPayments.get(charge.id) ?? null }, seen);
  }
  // Charges, refunds or disputes of a PaymentIntent not read yet (it is older than the lists read so
  // far): its row is derived when it arrives.
  return null;
}

function deriveSubscription(key: string, group: Obj[], customers: Map<string, string>, seen: string): SubscriptionRow | null {
  const data = group.find((o) => o.type === 'subscription' && o.data.id === key);
  if (!data) return null;
  const sub = parseOr(subscriptionSchema, data.data, 'subscription');
  return mapSubscription(sub, { customerId: sub.customer ? customers.get(sub.customer) ?? null : null }, seen);
}

async function recordRejections(conn: DuckDBConnection, source: string, entity: string, tenant: string, rejections: Rejection[], jobRunId: number | null): Promise<void> {
  for (const r of rejections) {
    await conn.run(`INSERT INTO rejected_rows (source, entity, tenant_id, key, reason, payload, row_hash, job_run_id, rejected_at)
      SELECT $source, $entity, $tenant, $key, $reason, $payload::JSON, md5($payload), ${jobRunId ?? 'NULL'}, now()::TIMESTAMP
      WHERE NOT EXISTS (SELECT 1 FROM rejected_rows WHERE source = $source AND entity = $entity AND row_hash = md5($payload))`,
      { source, entity, tenant, key: `${tenant}|${r.key}`, reason: r.reason, payload: JSON.stringify(r.payload) });
  }
}

