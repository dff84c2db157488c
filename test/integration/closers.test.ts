import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { parseCsv } from '../../src/api/csv.ts';
import { loadConfig } from '../../src/config.ts';
import { capabilities } from '../../src/ingest/capabilities.ts';
import { Rng, exponential, lognormalWithMean } from '../../src/synth/random.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { serveApi } from '../helpers/api.ts';
import { withKey } from '../helpers/kpi-facts.ts';
import { tempDir } from '../helpers/source-db.ts';

/**
 * AI vs admin on conversations and orders drawn from known rates: every count, sum and median is
 * recomputed here from the drawn rows (not by SQL), and the AI − human differences must recover
 * the true ones the rows were drawn with.
 */
const TRUTH = {
  t1: { ai: { conversations: 6000, p: 0.30, aov: 80, escalate: 0.15, responseS: 4 }, human: { conversations: 4000, p: 0.22, aov: 125, escalate: 0, responseS: 600 } },
  t2: { ai: { conversations: 3000, p: 0.55, aov: 40, escalate: 0.05, responseS: 2 }, human: { conversations: 1000, p: 0.10, aov: 300, escalate: 0, responseS: 60 } },
};
const START = Date.parse('2026-03-02T00:00:00Z'); // a Monday: weekly buckets start on it
const DAYS = 56;
const END = START + DAYS * 86_400_000;
/** Orders count where they were placed; a conversation converts whenever its order came. */
const inRange = (o: { created: number }) => o.created < END;

interface Conv { tenant: string; id: string; handled: 'ai' | 'human' | 'mixed'; started: number; firstResponse: number; escalated: boolean }
interface Order { tenant: string; id: string; conv: string; closer: 'ai' | 'human'; status: string; cents: number; created: number }

function draw(): { conversations: Conv[]; orders: Order[] } {
  const rng = new Rng(20261123);
  const conversations: Conv[] = [];
  const orders: Order[] = [];
  for (const [tenant, closers] of Object.entries(TRUTH)) {
    for (const [closer, t] of Object.entries(closers) as ['ai' | 'human', (typeof closers)['ai']][]) {
      for (let i = 0; i < t.conversations; i++) {
        const id = `${closer}-${i}`;
        const started = START + Math.floor(rng.next() * DAYS * 86_400_000);
        const escalated = rng.bernoulli(t.escalate);
        conversations.push({ tenant, id, handled: escalated ? 'mixed' : closer, started, firstResponse: started + Math.round(exponential(rng, 1 / t.responseS) * 1000), escalated });
        if (!rng.bernoulli(t.p)) continue;
        const u = rng.next();
        const status = u < 0.06 ? 'cancelled' : u < 0.1 ? 'refunded' : u < 0.13 ? 'pending' : u < 0.6 ? 'paid' : 'fulfilled';
        // An escalated conversation is closed by the person it was handed to, at that closer's order values.
        const closedBy = escalated ? 'human' : closer;
        orders.push({ tenant, id: `o-${id}`, conv: id, closer: closedBy, status, cents: Math.round(lognormalWithMean(rng, closers[closedBy].aov, 0.5) * 100), created: started + 3_600_000 });
      }
    }
  }
  return { conversations, orders };
}

const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;

describe('AI vs admin: GET /v1/kpis/ai-vs-admin', () => {
  const dir = tempDir();
  const data = draw();
  let wh: Warehouse;
  let http: Awaited<ReturnType<typeof serveApi>>;
  const k1 = generateApiKey('t1', ['read']);
  const k2 = generateApiKey('t2', ['read']);
  const range = `from=${new Date(START).toISOString()}&to=${new Date(END).toISOString()}`;

  beforeAll(async () => {
    wh = await Warehouse.open({ path: join(dir.path, 'w.duckdb'), threads: 1 });
    const convCsv = join(dir.path, 'conv.csv');
    const ordCsv = join(dir.path, 'orders.csv');
    writeFileSync(convCsv, ['tenant_id,conversation_id,handled_by,started_at,first_response_at,escalated',
      ...data.conversations.map((c) => `${c.tenant},${c.id},${c.handled},${ts(c.started)},${ts(c.firstResponse)},${c.escalated}`)].join('\n'));
    writeFileSync(ordCsv, ['tenant_id,order_id,conversation_id,closed_by,status,total,currency,created_at',
      ...data.orders.map((o) => `${o.tenant},${o.id},${o.conv},${o.closer},${o.status},${cents(o.cents)},USD,${ts(o.created)}`)].join('\n'));
    await wh.transaction(async (conn) => {
      await conn.run(withKey(`INSERT INTO conversations (tenant_id, conversation_id, handled_by, started_at, first_response_at, escalated)
        SELECT * FROM read_csv('${convCsv}', header = true, all_varchar = true)`));
      await conn.run(withKey(`INSERT INTO orders (tenant_id, order_id, conversation_id, closed_by, status, total, currency, created_at)
        SELECT * FROM read_csv('${ordCsv}', header = true, all_varchar = true)`));
    });
    const config = loadConfig({ DUCKDB_PATH: join(dir.path, 'w.duckdb'), API_KEYS: `${k1.entry},${k2.entry}` });
    const caps = capabilities({ name: 'chat-shop', entities: ['orders', 'payments', 'conversations'].map((entity) => ({ spec: { entity } })), manifest: { without: {} } });
    http = await serveApi({ config, warehouse: wh, capabilities: caps });
  }, 60_000);

  afterAll(async () => {
    await http?.close();
    await wh?.close();
    dir.remove();
  });

  const get = async (path: string, key = k1.key) => {
    const res = await http.get(path, key);
    return { status: res.status, res, body: (await res.clone().json().catch(() => null)) as Record<string, any> };
  };

  it('counts, sums and medians equal those of the drawn rows, per tenant', async () => {
    for (const [tenant, key] of [['t1', k1.key], ['t2', k2.key]] as const) {
      const { status, body } = await get(`/v1/kpis/ai-vs-admin?${range}`, key);
      expect(status).toBe(200);
      expect(body.tenant).toBe(tenant);
      expect(body.currency).toBe('USD');
      for (const closer of ['ai', 'human'] as const) {
        const conv = data.conversations.filter((c) => c.tenant === tenant && (closer === 'ai' ? c.handled !== 'human' : c.handled === 'human'));
        const linked = new Set(data.orders.filter((o) => o.tenant === tenant).map((o) => o.conv));
        const ord = data.orders.filter((o) => o.tenant === tenant && o.closer === closer && inRange(o));
        const kept = ord.filter((o) => o.status === 'paid' || o.status === 'fulfilled');
        const revenue = kept.reduce((s, o) => s + o.cents, 0);
        const stats = body.closers.find((c: { closer: string }) => c.closer === closer);
        expect(stats).toEqual({
          closer,
          conversations: conv.length,
          converted: conv.filter((c) => linked.has(c.id)).length,
          conversion_rate: conv.filter((c) => linked.has(c.id)).length / conv.length,
          escalations: closer === 'ai' ? conv.filter((c) => c.escalated).length : null,
          escalation_rate: closer === 'ai' ? conv.filter((c) => c.escalated).length / conv.length : null,
          median_first_response_seconds: expect.closeTo(median(conv.map((c) => (c.firstResponse - c.started) / 1000)), 6),
          orders_closed: ord.length,
          orders_kept: kept.length,
          revenue: [{ currency: 'USD', amount: cents(revenue) }],
          aov: [{ currency: 'USD', amount: cents(Math.round(revenue / kept.length)) }],
          cancel_refund_rate: ord.filter((o) => o.status === 'cancelled' || o.status === 'refunded').length / ord.filter((o) => o.status !== 'pending').length,
        });
      }
    }
  });

  it('the AI − human differences recover the true ones; p-values agree with a z-test', async () => {
    for (const [tenant, key] of [['t1', k1.key], ['t2', k2.key]] as const) {
      const { body } = await get(`/v1/kpis/ai-vs-admin?${range}&level=0.99`, key);
      const t = TRUTH[tenant];
      const conv = body.difference.conversion_rate;
      expect(conv.level).toBe(0.99);
      // Within four standard errors of the truth (the 99% half-width is 2.576 of them): a miss
      // would mean a bias, not bad luck (probability 6e-5 per interval).
      const covers = (d: { estimate: number; ci: [number, number] }, truth: number) => {
        const se = (d.ci[1] - d.ci[0]) / (2 * 2.5758);
        expect(Math.abs(d.estimate - truth)).toBeLessThan(4 * se);
      };
      covers(conv, t.ai.p - t.human.p);
      covers(body.difference.aov, t.ai.aov - t.human.aov);
      const mean = (xs: Order[]) => xs.reduce((s, o) => s + o.cents / 100, 0) / xs.length;
      const kept = (c: string) => data.orders.filter((o) => o.tenant === tenant && o.closer === c && inRange(o) && (o.status === 'paid' || o.status === 'fulfilled'));
      expect(body.difference.aov.estimate).toBeCloseTo(mean(kept('ai')) - mean(kept('human')), 6);
      // Thousands of units each: Welch's t is a z-test to three digits.
      const [a, h] = ['ai', 'human'].map((c) => body.closers.find((x: { closer: string }) => x.closer === c));
      const se = Math.sqrt(a.conversion_rate * (1 - a.conversion_rate) / a.conversations + h.conversion_rate * (1 - h.conversion_rate) / h.conversations);
      const z = (a.conversion_rate - h.conversion_rate) / se;
      expect(conv.p_value).toBeCloseTo(2 * (1 - normalCdf(Math.abs(z), 0, 1)), 3);
    }
  });

  it('weekly series are dense, add up to the totals, and come as CSV', async () => {
    const { body } = await get(`/v1/kpis/ai-vs-admin?${range}&granularity=week`);
    expect(body.series).toHaveLength((DAYS / 7) * 2);
    for (const closer of ['ai', 'human']) {
      const points = body.series.filter((p: { closer: string }) => p.closer === closer);
      const stats = body.closers.find((c: { closer: string }) => c.closer === closer);
      expect(points.reduce((s: number, p: { conversations: number }) => s + p.conversations, 0)).toBe(stats.conversations);
      expect(points.reduce((s: number, p: { orders_closed: number }) => s + p.orders_closed, 0)).toBe(stats.orders_closed);
      const cents100 = points.reduce((s: number, p: { revenue: string }) => s + Math.round(Number(p.revenue) * 100), 0);
      expect(cents(cents100)).toBe(stats.revenue[0].amount);
    }
    const csv = await get(`/v1/kpis/ai-vs-admin?${range}&format=csv`);
    expect(csv.res.headers.get('content-type')).toContain('text/csv');
    const rows = parseCsv(await csv.res.text());
    expect(rows[0]).toEqual(['bucket', 'start', 'end', 'closer', 'conversations', 'conversion_rate', 'orders_closed', 'currency', 'revenue', 'aov']);
    expect(rows).toHaveLength(1 + body.series.length);
    expect(rows[1]!.slice(0, 4)).toEqual([body.series[0].bucket, body.series[0].start, body.series[0].end, 'ai']);
  });

  it('bad parameters are 400s naming them', async () => {
    for (const [q, name] of [['granularity=hour', 'granularity'], ['level=1.5', 'level'], ['from=yesterday', 'from']] as const) {
      const { status, body } = await get(`/v1/kpis/ai-vs-admin?${q}`);
      expect(status).toBe(400);
      expect(body.invalid_params?.[0]?.name ?? body.detail).toContain(name);
    }
  });

  it('a profile without conversations reports order stats and says why conversation stats are null', async () => {
    const config = loadConfig({ DUCKDB_PATH: join(dir.path, 'w.duckdb'), API_KEYS: k1.entry });
    const caps = capabilities({ name: 'orders-only', entities: [{ spec: { entity: 'orders' } }], manifest: { without: {} } });
    const other = await serveApi({ config, warehouse: wh, capabilities: caps });
    try {
      const body = (await (await other.get(`/v1/kpis/ai-vs-admin?${range}`, k1.key)).json()) as Record<string, any>;
      expect(body.unavailable.conversations).toMatch(/maps no conversations/);
      expect(body.difference.conversion_rate).toBeNull();
      expect(body.difference.aov).not.toBeNull();
      expect(body.closers[0]).toMatchObject({ conversations: null, conversion_rate: null, escalation_rate: null, orders_closed: data.orders.filter((o) => o.tenant === 't1' && o.closer === 'ai' && inRange(o)).length });
    } finally {
      await other.close();
    }
  });
});
