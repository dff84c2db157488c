/**
 * A/B tests with known effects. Each unit is assigned A/B with probability ½, converts with its
 * variant's true rate, and if converted spends lognormal revenue (σ_log = 0.6) with the variant's
 * true mean; engagement_score = clamp(N(45 + 20·converted, 12), 0, 100). Unit timestamps are uniform
 * over the test window.
 */
import type { Calendar } from './calendar.js';
import { DAY_MS, formatTimestamp, isoString } from './calendar.js';
import { csvRow, formatCents } from './copy.js';
import { Rng, lognormalWithMean, normal, uuid } from './random.js';

export const STREAM_EXPERIMENTS = 0xab7e;
export const AB_TEST_STATUSES = ['completed', 'running'] as const;
export const REVENUE_LOG_SD = 0.6;
export const UNITS_PER_TEST = 16_000;

export interface VariantTruth {
  conversion_rate: number;
  /** Mean revenue of a converted unit. */
  revenue_mean_if_converted: number;
  /** conversion_rate × revenue_mean_if_converted. */
  revenue_per_unit: number;
}

export interface ExperimentTruth {
  id: string;
  name: string;
  metric: 'conversion' | 'revenue';
  status: (typeof AB_TEST_STATUSES)[number];
  start: string;
  end: string;
  units: number;
  /** Converted units' revenue is lognormal with this sd of log(revenue) around the variant mean. */
  revenue_log_sd: number;
  variants: { A: VariantTruth; B: VariantTruth };
  /** True effects of B over A. */
  true_effect: {
    conversion_abs_diff: number;
    conversion_relative_lift: number;
    revenue_per_unit_abs_diff: number;
    revenue_per_unit_relative_lift: number;
  };
  realised: Record<'A' | 'B', { units: number; conversions: number; revenue: number }>;
}

interface Spec {
  name: string;
  description: string;
  metric: 'conversion' | 'revenue';
  a: { conversion: number; revenue: number; config: Record<string, string> };
  b: { conversion: number; revenue: number; config: Record<string, string> };
  startDay: number;
  durationDays: number;
}

/** Round away float noise (0.12/0.1 − 1 = 0.19999999999999996) so the truth reads cleanly. */
const clean = (x: number): number => Math.round(x * 1e9) / 1e9;

function specs(days: number): Spec[] {
  const clampDur = (d: number): number => Math.max(1, Math.min(d, days));
  const d1 = clampDur(Math.min(42, Math.floor(days * 0.15)));
  const d2 = clampDur(Math.min(35, Math.floor(days * 0.12)));
  const d3 = clampDur(Math.min(28, Math.floor(days * 0.1)));
  return [
    {
      name: 'checkout-one-page',
      description: 'One-page checkout vs the three-step checkout',
      metric: 'conversion',
      a: { conversion: 0.1, revenue: 45, config: { checkout: 'three-step' } },
      b: { conversion: 0.12, revenue: 45, config: { checkout: 'one-page' } },
      startDay: Math.min(days - d1, Math.floor(days * 0.55)),
      durationDays: d1,
    },
    {
      name: 'product-page-badge-color',
      description: 'Green vs blue "in stock" badge (expected to make no difference)',
      metric: 'conversion',
      a: { conversion: 0.08, revenue: 45, config: { badge: 'blue' } },
      b: { conversion: 0.08, revenue: 45, config: { badge: 'green' } },
      startDay: Math.min(days - d2, Math.floor(days * 0.72)),
      durationDays: d2,
    },
    {
      name: 'bundle-upsell',
      description: 'Suggest a bundle at checkout',
      metric: 'revenue',
      a: { conversion: 0.1, revenue: 60, config: { upsell: 'none' } },
      b: { conversion: 0.1, revenue: 66, config: { upsell: 'bundle' } },
      startDay: days - d3,
      durationDays: d3,
    },
  ];
}

export interface ExperimentData {
  truth: ExperimentTruth[];
  testRows: string[];
  /** Lazily generates the ab_test_results rows and fills `truth[*].realised`. */
  resultRows: () => Generator<string>;
}

export function buildExperiments(seed: number, cal: Calendar): ExperimentData {
  const rng = new Rng(seed, STREAM_EXPERIMENTS);
  const truth: ExperimentTruth[] = [];
  const testRows: string[] = [];
  const all = specs(cal.days);
  for (const s of all) {
    const id = uuid(rng);
    const startMs = cal.dayStartMs(s.startDay);
    const endMs = Math.min(cal.endMs, startMs + s.durationDays * DAY_MS);
    const status = endMs >= cal.endMs ? 'running' : 'completed';
    const vt = (v: Spec['a']): VariantTruth => ({
      conversion_rate: v.conversion,
      revenue_mean_if_converted: v.revenue,
      revenue_per_unit: clean(v.conversion * v.revenue),
    });
    const A = vt(s.a);
    const B = vt(s.b);
    truth.push({
      id,
      name: s.name,
      metric: s.metric,
      status,
      start: isoString(startMs),
      end: isoString(endMs),
      units: UNITS_PER_TEST,
      revenue_log_sd: REVENUE_LOG_SD,
      variants: { A, B },
      true_effect: {
        conversion_abs_diff: clean(B.conversion_rate - A.conversion_rate),
        conversion_relative_lift: clean(B.conversion_rate / A.conversion_rate - 1),
        revenue_per_unit_abs_diff: clean(B.revenue_per_unit - A.revenue_per_unit),
        revenue_per_unit_relative_lift: clean(B.revenue_per_unit / A.revenue_per_unit - 1),
      },
      realised: { A: { units: 0, conversions: 0, revenue: 0 }, B: { units: 0, conversions: 0, revenue: 0 } },
    });
    testRows.push(
      csvRow([id, s.name, s.description, JSON.stringify(s.a.config), JSON.stringify(s.b.config), s.metric, UNITS_PER_TEST, status, formatTimestamp(startMs)]),
    );
  }

  function* resultRows(): Generator<string> {
    const r = new Rng(seed, STREAM_EXPERIMENTS + 1);
    for (let t = 0; t < truth.length; t++) {
      const tr = truth[t]!;
      const s = all[t]!;
      const startMs = Date.parse(tr.start);
      const span = Date.parse(tr.end) - startMs;
      const revenueCents = { A: 0, B: 0 };
      for (let u = 0; u < tr.units; u++) {
        const variant = r.next() < 0.5 ? 'A' : 'B';
        const v = variant === 'A' ? s.a : s.b;
        const converted = r.next() < v.conversion;
        const cents = converted ? Math.max(1, Math.round(lognormalWithMean(r, v.revenue, REVENUE_LOG_SD) * 100)) : 0;
        const engagement = Math.min(100, Math.max(0, normal(r, 45 + (converted ? 20 : 0), 12)));
        const ts = startMs + Math.floor(r.next() * span);
        const real = tr.realised[variant];
        real.units++;
        if (converted) real.conversions++;
        revenueCents[variant] += cents;
        yield csvRow([uuid(r), tr.id, variant, converted, formatCents(cents), engagement.toFixed(2), formatTimestamp(ts)]);
      }
      tr.realised.A.revenue = revenueCents.A / 100;
      tr.realised.B.revenue = revenueCents.B / 100;
    }
  }
  return { truth, testRows, resultRows };
}
