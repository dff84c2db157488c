import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { ConfigError, loadConfig, PROFILES } from '../../src/config.ts';
import { type Analysis, capabilities } from '../../src/ingest/capabilities.ts';
import { checkProfileColumns, configuredProfile, ProfileColumnsError, SHIPPED_PROFILES_DIR } from '../../src/ingest/profile.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { serveApi } from '../helpers/api.ts';
import { generatedSource, type SourceDb, tempDir } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * A user's own profile (PROFILE_DIR), made the way the README tells a newcomer to: copy a shipped
 * profile, keep the entities the source has, edit the manifest. Checked against a real PostgreSQL.
 */
describe('custom profiles (PROFILE_DIR)', () => {
  const scratch = tempDir();
  const mine = join(scratch.path, 'my-shop');
  let db: SourceDb;

  /** A copy of pricing-platform with only `entities`, and the manifest given. */
  function writeProfile(dir: string, entities: string[], manifest: Record<string, unknown>): void {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const e of entities) cpSync(join(SHIPPED_PROFILES_DIR, 'pricing-platform', `${e}.sql`), join(dir, `${e}.sql`));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  }

  beforeAll(async () => {
    ({ db } = await generatedSource({ seed: 5, orders: 400, products: 10, days: 40, end: new Date('2026-06-01T00:00:00Z'), experiments: false }));
    writeProfile(mine, ['customers', 'orders', 'payments'], { description: 'orders and payments only', currency: 'EUR' });
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    scratch.remove();
  });

  it('loads from PROFILE_DIR, named after its directory, with the manifest currency as default', () => {
    const config = loadConfig({ PROFILE_DIR: mine });
    expect(config.DEFAULT_CURRENCY).toBe('EUR');
    expect(loadConfig({ PROFILE_DIR: mine, DEFAULT_CURRENCY: 'GBP' }).DEFAULT_CURRENCY).toBe('GBP');
    const profile = configuredProfile(config);
    expect(profile.name).toBe('my-shop');
    expect(profile.entities.map((e) => e.spec.entity)).toEqual(['customers', 'orders', 'payments']);
    expect(profile.entities[1]!.sql).toContain(`'EUR' AS currency`);
  });

  it('a missing or broken manifest stops start-up with the other problems', () => {
    const broken = join(scratch.path, 'broken');
    writeProfile(broken, ['orders'], { description: '', tenant: 'distributor' });
    let err: unknown;
    try {
      loadConfig({ PROFILE_DIR: broken, PORT: 'eighty' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'PROFILE_DIR']);
    expect(problems.find((p) => p.startsWith('PROFILE_DIR'))).toMatch(/description.*tenant/);
    expect(() => loadConfig({ PROFILE_DIR: join(scratch.path, 'nowhere') })).toThrow(/manifest\.json is missing/);
  });

  it('a profile whose SQL lacks a column fails naming the entity and the column', async () => {
    const short = join(scratch.path, 'short');
    writeProfile(short, ['orders', 'payments'], { description: 'edited by hand' });
    const orders = readFileSync(join(short, 'orders.sql'), 'utf8');
    writeFileSync(join(short, 'orders.sql'), orders.replace('NULL AS closed_by,', '').replace('o.created_at AS _cursor_ts', 'o.created_at AS cursor_ts'));
    writeFileSync(join(short, 'payments.sql'), 'SELECT p.id AS payment_id FROM no_such_table p');
    const profile = configuredProfile(loadConfig({ PROFILE_DIR: short }));
    const err = await checkProfileColumns(db.pool, profile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProfileColumnsError);
    const problems = (err as ProfileColumnsError).problems;
    expect(problems).toEqual([
      expect.stringMatching(/^profile short: entity orders \(orders\.sql\): no column "_cursor_ts"/),
      expect.stringMatching(/^profile short: entity orders \(orders\.sql\): no column "closed_by"/),
      expect.stringMatching(/^profile short: entity payments \(payments\.sql\): the SQL fails on the source: .*no_such_table/),
    ]);
    // Every shipped profile passes the same check against its own fixture schema (see the profile tests).
    await expect(checkProfileColumns(db.pool, configuredProfile(loadConfig({})))).resolves.toBeUndefined();
  });

  it('ingests and serves; what the source cannot feed is a problem saying why, never zeros', async () => {
    const key = generateApiKey('default', ['read']);
    const tw = await openTestWarehouse(db.pool, { PROFILE_DIR: mine, API_KEYS: key.entry });
    const http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
    try {
      const summary = await ingestAll(tw.ctx);
      expect(summary.entities.map((e) => e.entity)).toEqual(['customers', 'orders', 'payments']);
      await refreshRollups(tw.warehouse);
      const caps = capabilities(configuredProfile(tw.config));
      expect(Object.entries(caps).filter(([, a]) => a.available).map(([k]) => k).sort()).toEqual(['closers', 'countries', 'customers', 'forecasts', 'kpis']);

      const range = 'from=2026-05-01&to=2026-06-01';
      const s = await http.get(`/v1/kpis/summary?${range}&compare=previous_period`, key.key);
      expect(s.status).toBe(200);
      const body = (await s.json()) as { metrics: Record<string, unknown>; deltas: Record<string, unknown>; unavailable: Record<string, string> };
      const { n } = (await db.pool.query(`SELECT count(*)::int AS n FROM orders WHERE created_at >= '2026-05-01' AND created_at < '2026-06-01'
        AND lower(status) IN ('completed','paid','succeeded','shipped','delivered','fulfilled','refunded')`)).rows[0] as { n: number };
      expect(body.metrics.orders).toBe(n);
      for (const m of ['mrr', 'arr', 'subscription_churn', 'page_views', 'conversion_rate']) {
        expect(body.metrics[m]).toBeNull();
        expect(body.deltas[m]).toBeNull();
      }
      expect(body.unavailable.mrr).toMatch(/maps no subscriptions/);
      expect(body.unavailable.page_views).toMatch(/maps no page_views or product_events/);

      for (const [path, why] of [
        ['/v1/kpis/funnel', /maps no page_views or product_events, needed for the funnel/],
        ['/v1/kpis/products', /maps no products/],
        ['/v1/pricing/recommendations', /maps no products/],
        ['/v1/experiments', /maps no experiments/],
        ['/v1/experiments/x', /maps no experiments/],
        [`/v1/kpis/timeseries?metric=mrr&${range}`, /"metric": .*maps no subscriptions/],
      ] as const) {
        const res = await http.get(path, key.key);
        expect(res.status, path).toBe(404);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = (await res.json()) as { type: string; detail: string };
        expect(problem.type).toBe('urn:pricecast:problem:not_applicable');
        expect(problem.detail).toMatch(why);
      }
      // Authentication still comes first.
      expect((await http.get('/v1/kpis/funnel', 'pk_wrong')).status).toBe(401);
    } finally {
      await http.close();
      await tw.close();
    }
  }, 60_000);

  it('the shipped default rules out AI-vs-admin stats in its manifest, and the route says so', async () => {
    const key = generateApiKey('default', ['read']);
    const tw = await openTestWarehouse(db.pool, { API_KEYS: key.entry });
    const http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
    try {
      const res = await http.get('/v1/kpis/ai-vs-admin', key.key);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        type: 'urn:pricecast:problem:not_applicable',
        detail: expect.stringMatching(/^Profile pricing-platform cannot provide AI-vs-admin sales stats: seed 004 records neither/),
      });
    } finally {
      await http.close();
      await tw.close();
    }
  });

  it('every shipped profile: each analysis it lacks answers not_applicable with its reason, each it has does not', async () => {
    const key = generateApiKey('default', ['read']);
    const ROUTE: Record<Analysis, string> = {
      kpis: '/v1/kpis/summary', subscriptions: '/v1/kpis/timeseries?metric=mrr', funnel: '/v1/kpis/funnel', products: '/v1/kpis/products',
      countries: '/v1/kpis/countries', forecasts: '/v1/forecasts/revenue', pricing: '/v1/pricing/recommendations', experiments: '/v1/experiments',
      customers: '/v1/customers/at-risk', closers: '/v1/kpis/ai-vs-admin', conversations: '/v1/kpis/ai-vs-admin',
    };
    for (const profile of PROFILES) {
      const tw = await openTestWarehouse(db.pool, { PROFILE: profile, API_KEYS: key.entry });
      const http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
      try {
        const caps = capabilities(configuredProfile(tw.config));
        for (const [analysis, path] of Object.entries(ROUTE) as [Analysis, string][]) {
          const res = await http.get(path, key.key);
          const body = (await res.json()) as { type?: string; detail?: string; unavailable?: Record<string, string> };
          const a = caps[analysis];
          if (analysis === 'conversations') {
            // Conversation metrics are part of the AI-vs-admin answer: null with the reason when missing
            // (without closers the route itself is not applicable, as checked for `closers`).
            if (caps.closers.available) expect(body.unavailable?.conversations, profile).toBe(a.available ? undefined : a.reason);
          } else if (a.available) {
            expect(body.type, `${profile} ${path}`).not.toBe('urn:pricecast:problem:not_applicable');
          } else {
            expect(res.status, `${profile} ${path}`).toBe(404);
            expect(body).toMatchObject({ type: 'urn:pricecast:problem:not_applicable', detail: expect.stringContaining(a.reason.slice(0, 40)) });
          }
        }
      } finally {
        await http.close();
        await tw.close();
      }
    }
  }, 60_000);
});
