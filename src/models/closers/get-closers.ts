/**
 * Who closes sales, and who does it better: AI or people, over a range, from the canonical orders
 * (closed_by) and conversations (handled_by, first_response_at, escalated).
 *
 * Two views, each answering its own question:
 * - Conversations by their FIRST responder (handled_by 'ai' or 'mixed' → AI; 'human' → human): "when
 *   the AI takes a conversation, how often does it end in a sale?" — an AI conversation escalated to a
 *   person still counts for the AI, as routing decisions are made before anyone knows the outcome.
 *   A conversation converts when at least one order (any status) points at it, whenever placed.
 * - Orders by their CLOSER (orders.closed_by): orders closed, revenue and AOV of those kept (paid or
 *   fulfilled), and the cancel/refund rate among decided (non-pending) orders.
 * Read straight from the canonical tables (a tenant's orders and conversations in the range), not
 * from rollups: the median response time and the per-conversation join need the rows.
 */
import { type Bucket, type Granularity, localBuckets } from '../kpis/buckets.ts';
import { db, num, ratio, sqlTs, type KpiRange } from '../kpis/common.ts';
import { byCurrency, divideAmount, type Money, normaliseAmount } from '../kpis/money.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import { compareClosers, type Difference } from './compare.ts';

export const CLOSERS = ['ai', 'human'] as const;
export type Closer = (typeof CLOSERS)[number];

export interface CloserStats {
  closer: Closer;
  /** Conversations this closer answered first; null when the source has no conversations. */
  conversations: number | null;
  converted: number | null;
  conversion_rate: number | null;
  /** AI only: conversations the AI handed to a person, and their share of the AI's conversations. */
  escalations: number | null;
  escalation_rate: number | null;
  median_first_response_seconds: number | null;
  orders_closed: number;
  /** Orders closed and kept (paid or fulfilled). */
  orders_kept: number;
  revenue: Money[];
  aov: { currency: string; amount: string | null }[];
  /** (cancelled + refunded) ÷ decided (not pending) orders closed. */
  cancel_refund_rate: number | null;
}

export interface CloserPoint {
  bucket: string;
  start: string;
  end: string;
  closer: Closer;
  conversations: number | null;
  conversion_rate: number | null;
  orders_closed: number;
  /** In the comparison currency. */
  revenue: string;
  aov: string | null;
}

export interface ClosersResult {
  /** The currency of the AOV comparison and of the series' revenue: the one most kept orders are in. */
  currency: string;
  closers: CloserStats[];
  difference: { conversion_rate: Difference | null; aov: Difference | null };
  series: CloserPoint[];
}

interface ConvRow { i: number | null; closer: Closer; n: string; converted: string; escalated: string; median_s: number | null }
interface OrderRow {
  i: number | null; closer: Closer; currency: string; orders: string; decided: string; undone: string; kept: string;
  revenue: string; sum: number; sum_sq: number;
}

/** CTE `b(i, s, e)` of the buckets; the edges are our own ISO strings, safe to inline. */
function bucketsCte(buckets: Bucket[]): string {
  const rows = buckets.map((b, i) => `(${i}, TIMESTAMP '${sqlTs(b.start)}', TIMESTAMP '${sqlTs(b.end)}')`);
  return `b(i, s, e) AS (VALUES ${rows.join(', ')})`;
}

export async function getClosers(
  wh: Warehouse,
  r: KpiRange,
  o: { granularity: Granularity; tz: string; level: number; conversations: boolean; defaultCurrency: string },
): Promise<ClosersResult> {
  const buckets = localBuckets(r.from, r.to, o.tz, o.granularity);
  const q = db(wh);
  const params = { tenant: r.tenantId };
  const [conv, ord] = await Promise.all([
    o.conversations
      ? q.query<ConvRow>(`
        WITH ${bucketsCte(buckets)},
        linked AS (SELECT DISTINCT conversation_id FROM orders WHERE tenant_id = $tenant AND conversation_id IS NOT NULL),
        c AS (
          SELECT c.started_at AS ts, CASE WHEN c.handled_by = 'human' THEN 'human' ELSE 'ai' END AS closer,
                 l.conversation_id IS NOT NULL AS converted, coalesce(c.escalated, false) OR c.handled_by = 'mixed' AS escalated,
                 epoch(c.first_response_at) - epoch(c.started_at) AS response_s
          FROM conversations c LEFT JOIN linked l USING (conversation_id)
          WHERE c.tenant_id = $tenant AND c.handled_by IS NOT NULL)
        SELECT b.i, c.closer, count(*) AS n, count(*) FILTER (WHERE c.converted) AS converted,
               count(*) FILTER (WHERE c.escalated) AS escalated, median(c.response_s) FILTER (WHERE c.response_s >= 0) AS median_s
        FROM c JOIN b ON c.ts >= b.s AND c.ts < b.e GROUP BY GROUPING SETS ((b.i, c.closer), (c.closer))`, params)
      : Promise.resolve([]),
    q.query<OrderRow>(`
      WITH ${bucketsCte(buckets)},
      o AS (SELECT created_at AS ts, closed_by AS closer, currency, status, total, status IN ('paid', 'fulfilled') AS kept
            FROM orders WHERE tenant_id = $tenant AND closed_by IS NOT NULL)
      SELECT b.i, o.closer, o.currency, count(*) AS orders, count(*) FILTER (WHERE o.status <> 'pending') AS decided,
             count(*) FILTER (WHERE o.status IN ('cancelled', 'refunded')) AS undone, count(*) FILTER (WHERE o.kept) AS kept,
             coalesce(sum(o.total) FILTER (WHERE o.kept), 0)::VARCHAR AS revenue,
             coalesce(sum(o.total::DOUBLE) FILTER (WHERE o.kept), 0) AS sum, coalesce(sum(o.total::DOUBLE ** 2) FILTER (WHERE o.kept), 0) AS sum_sq
      FROM o JOIN b ON o.ts >= b.s AND o.ts < b.e GROUP BY GROUPING SETS ((b.i, o.closer, o.currency), (o.closer, o.currency))`, params),
  ]);
  return summarise(buckets, conv, ord, o);
}

/** The rows of both queries → per-closer totals, the AI − human differences and the dense series. */
function summarise(buckets: Bucket[], conv: ConvRow[], ord: OrderRow[], o: { level: number; conversations: boolean; defaultCurrency: string }): ClosersResult {
  const totals = ord.filter((x) => x.i === null);
  const keptBy = new Map<string, number>();
  for (const x of totals) keptBy.set(x.currency, (keptBy.get(x.currency) ?? 0) + num(x.kept));
  const currency = [...keptBy].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? o.defaultCurrency;

  // Rows by (closer, bucket; null = the whole range): a day series over a year asks for 732 cells.
  const cell = (closer: Closer, i: number | null) => `${closer}|${i ?? ''}`;
  const convBy = new Map(conv.map((x) => [cell(x.closer, x.i), x]));
  const ordBy = new Map<string, OrderRow[]>();
  for (const x of ord) {
    const list = ordBy.get(cell(x.closer, x.i));
    if (list) list.push(x);
    else ordBy.set(cell(x.closer, x.i), [x]);
  }
  const convOf = (closer: Closer, i: number | null) => convBy.get(cell(closer, i));
  const ordersOf = (closer: Closer, i: number | null) => ordBy.get(cell(closer, i)) ?? [];
  const sumOf = (rows: OrderRow[], k: 'orders' | 'decided' | 'undone' | 'kept') => rows.reduce((s, x) => s + num(x[k]), 0);

  const closers = CLOSERS.map((closer): CloserStats => {
    const c = convOf(closer, null);
    const rows = ordersOf(closer, null);
    const n = o.conversations ? num(c?.n) : null;
    const escalations = o.conversations && closer === 'ai' ? num(c?.escalated) : null;
    return {
      closer,
      conversations: n,
      converted: o.conversations ? num(c?.converted) : null,
      conversion_rate: n === null ? null : ratio(num(c?.converted), n),
      escalations,
      escalation_rate: escalations === null || n === null ? null : ratio(escalations, n),
      median_first_response_seconds: c?.median_s ?? null,
      orders_closed: sumOf(rows, 'orders'),
      orders_kept: sumOf(rows, 'kept'),
      revenue: byCurrency(rows.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.revenue) }))),
      aov: byCurrency(rows.map((x) => ({ currency: x.currency, amount: divideAmount(x.revenue, BigInt(x.kept)) }))),
      cancel_refund_rate: ratio(sumOf(rows, 'undone'), sumOf(rows, 'decided')),
    };
  });

  const moments = (closer: Closer) => {
    const c = convOf(closer, null);
    const m = ordersOf(closer, null).find((x) => x.currency === currency);
    return {
      conversations: { n: num(c?.n), sum: num(c?.converted), sumSq: num(c?.converted) },
      orderValue: { n: num(m?.kept), sum: m?.sum ?? 0, sumSq: m?.sum_sq ?? 0 },
    };
  };
  const difference = compareClosers(moments('ai'), moments('human'), o.level);
  if (!o.conversations) difference.conversion_rate = null;

  const series = buckets.flatMap((b, i) => CLOSERS.map((closer): CloserPoint => {
    const c = convOf(closer, i);
    const m = ordersOf(closer, i);
    const inCurrency = m.find((x) => x.currency === currency);
    const revenue = normaliseAmount(inCurrency?.revenue ?? '0');
    return {
      bucket: b.label, start: b.start.toISOString(), end: b.end.toISOString(), closer,
      conversations: o.conversations ? num(c?.n) : null,
      conversion_rate: o.conversations ? ratio(num(c?.converted), num(c?.n)) : null,
      orders_closed: sumOf(m, 'orders'),
      revenue,
      aov: divideAmount(revenue, num(inCurrency?.kept)),
    };
  }));
  return { currency, closers, difference, series };
}
