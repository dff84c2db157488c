/**
 * `npm run bench:stripe` — the Stripe sync against the bare SDK. A local server speaking Stripe's
 * list API (the tests' fake) holds BENCH_STRIPE_PAYMENTS (default 50,000) PaymentIntents, one charge
 * each, a refund for every tenth and 2% as many subscriptions. Baseline: the real SDK's
 * auto-pagination over the same five lists, objects counted and dropped. Then a full sync into a
 * fresh warehouse (the same listing, plus storing, deriving and loading the canonical rows), and an
 * incremental sync after 1% new payments and as many events. Ratios of runs in the same process;
 * prints figures, asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { LISTS, listAll } from '../src/ingest/stripe/client.ts';
import { syncStripe } from '../src/ingest/stripe/sync.ts';
import { refreshRollups } from '../src/models/kpis/rollups.ts';
import { Warehouse } from '../src/warehouse/warehouse.ts';
import { charge, event, paymentIntent, refund, subscription } from '../test/fakes/stripe-objects.ts';
import { startFakeStripe } from '../test/fakes/stripe-server.ts';

const N = Number(process.env.BENCH_STRIPE_PAYMENTS ?? 50_000);
const NOW = Date.parse('2026-11-01T00:00:00Z') / 1000;
const s = (ms: number) => (ms / 1000).toFixed(2);

function payment(i: number, created: number) {
  const pi = paymentIntent({ id: `pi_b${i}`, amount: 1000 + (i % 9000), currency: i % 10 === 0 ? 'jpy' : 'usd', created, customer: `cus_b${i % 5000}`, status: 'succeeded' });
  const ch = charge({ id: `ch_b${i}`, amount: pi.amount, currency: pi.currency, created: created + 2, customer: pi.customer, payment_intent: pi.id, status: 'succeeded' });
  pi.latest_charge = ch.id;
  return { pi, ch };
}

export async function benchStripe(): Promise<void> {
  console.log(`\n## Stripe sync (${N.toLocaleString()} payment intents)`);
  const store = { payment_intents: [] as ReturnType<typeof paymentIntent>[], charges: [] as ReturnType<typeof charge>[], refunds: [] as ReturnType<typeof refund>[],
    subscriptions: [] as ReturnType<typeof subscription>[], events: [] as ReturnType<typeof event>[] };
  for (let i = 0; i < N; i++) {
    const { pi, ch } = payment(i, NOW - 365 * 86_400 + Math.floor((i / N) * 364 * 86_400));
    store.payment_intents.push(pi);
    store.charges.push(ch);
    if (i % 10 === 0) store.refunds.push(refund({ id: `re_b${i}`, amount: 500, currency: pi.currency, created: pi.created + 3600, charge: ch.id, payment_intent: pi.id }));
  }
  for (let i = 0; i < N / 50; i++) {
    store.subscriptions.push(subscription({ id: `sub_b${i}`, customer: `cus_b${i}`, created: NOW - 200 * 86_400 + i * 60, currency: 'usd',
      items: [{ price: { unit_amount: 1500, currency: 'usd', recurring: { interval: i % 4 === 0 ? 'year' : 'month' } } }] }));
  }
  const fake = await startFakeStripe({ now: NOW, store });
  const dir = mkdtempSync(join(tmpdir(), 'pricecast-stripe-bench-'));
  try {
    const sdk = fake.client({ maxNetworkRetries: 2 });
    const retry = { retries: 3, baseMs: 100, maxMs: 1000 };
    let t = performance.now();
    let listed = 0;
    for (const list of LISTS.filter((l) => l !== 'events')) {
      listed += await listAll(sdk, list, list === 'subscriptions' ? { status: 'all' } : {}, () => undefined, retry);
    }
    const bare = performance.now() - t;

    const config = loadConfig({ DUCKDB_PATH: join(dir, 'w.duckdb'), STRIPE_RETRIES: '3' }, {});
    const wh = await Warehouse.open({ path: config.DUCKDB_PATH, memoryLimit: config.DUCKDB_MEMORY_LIMIT, threads: config.DUCKDB_THREADS });
    const ctx = { config, warehouse: wh, stripe: sdk, now: () => new Date(fake.now() * 1000) };
    try {
      t = performance.now();
      const full = await syncStripe(ctx, { mode: 'full' });
      const fullMs = performance.now() - t;
      t = performance.now();
      await refreshRollups(wh);
      const rollMs = performance.now() - t;
      const rss = process.memoryUsage().rss / 2 ** 20;

      // 1% new payments, and an event for each of as many old ones (a refund).
      fake.setNow(NOW + 3600);
      for (let i = 0; i < N / 100; i++) {
        const { pi, ch } = payment(N + i, NOW + 60 + i);
        fake.store.payment_intents.push(pi);
        fake.store.charges.push(ch);
        const old = fake.store.charges[i * 50]!;
        const refunded = charge({ ...old, amount_refunded: old.amount });
        fake.store.events.push(event({ type: 'charge.refunded', created: NOW + 120 + i, object: refunded }));
      }
      t = performance.now();
      const inc = await syncStripe(ctx);
      const incMs = performance.now() - t;
      t = performance.now();
      await refreshRollups(wh);
      const incRollMs = performance.now() - t;

      console.log(`bare SDK listing: ${listed.toLocaleString()} objects in ${s(bare)} s`);
      console.log(`full sync: ${s(fullMs)} s = ${(fullMs / bare).toFixed(2)}x the bare listing (payments written ${full.payments?.rowsOut}, subscriptions ${full.subscriptions?.rowsOut}); rollups ${s(rollMs)} s; RSS ${rss.toFixed(0)} MiB`);
      console.log(`incremental after 1% new + ${N / 100} events: ${s(incMs)} s (${((incMs / fullMs) * 100).toFixed(1)}% of the full sync; read ${JSON.stringify(inc.read)}), rollups ${s(incRollMs)} s`);
    } finally {
      await wh.close();
    }
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStripe();
