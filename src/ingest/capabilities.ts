/**
 * Which analyses a source profile supports, from the canonical entities its SQL maps. Each analysis
 * needs every group in `needs`, and any one entity of a group. A profile's manifest can rule out more
 * (`without`, with a reason) where an entity is mapped but cannot carry what the analysis reads.
 * The API answers a route whose analysis is unavailable with a problem+json saying why, never zeros.
 */
export const ANALYSES = {
  kpis: { needs: [['orders', 'payments']], what: 'KPIs (summary and time series)' },
  subscriptions: { needs: [['subscriptions']], what: 'MRR, ARR and subscription churn' },
  funnel: { needs: [['page_views', 'product_events']], what: 'the funnel (page view → product view → cart add → purchase)' },
  products: { needs: [['products'], ['payments']], what: 'per-product KPIs' },
  countries: { needs: [['customers'], ['payments']], what: 'per-country KPIs' },
  forecasts: { needs: [['payments']], what: 'revenue forecasts' },
  pricing: { needs: [['products'], ['payments']], what: 'price recommendations' },
  experiments: { needs: [['experiments'], ['experiment_units']], what: 'A/B test results' },
  customers: { needs: [['orders']], what: 'customer status, risk and lifetime value' },
  closers: { needs: [['orders']], what: 'AI-vs-admin sales stats' },
  conversations: { needs: [['conversations']], what: 'conversation metrics (conversion, first response, escalation)' },
} as const satisfies Record<string, { needs: readonly (readonly string[])[]; what: string }>;

export type Analysis = keyof typeof ANALYSES;

export type Availability = { available: true } | { available: false; reason: string };

/** Every analysis and whether the profile supports it, with the reason when it does not. */
export function capabilities(
  profile: { name: string; entities: { spec: { entity: string } }[]; manifest: { without: Partial<Record<Analysis, string>> } },
): Record<Analysis, Availability> {
  const mapped = new Set(profile.entities.map((e) => e.spec.entity));
  const out = {} as Record<Analysis, Availability>;
  for (const [analysis, { needs, what }] of Object.entries(ANALYSES) as [Analysis, (typeof ANALYSES)[Analysis]][]) {
    const missing = needs.find((group) => !group.some((e) => mapped.has(e)));
    const ruledOut = profile.manifest.without[analysis];
    out[analysis] = missing
      ? { available: false, reason: `Profile ${profile.name} maps no ${missing.join(' or ')}, needed for ${what}.` }
      : ruledOut
        ? { available: false, reason: `Profile ${profile.name} cannot provide ${what}: ${ruledOut}` }
        : { available: true };
  }
  return out;
}

/** The analysis each model job serves: a job whose analysis the profile lacks is not scheduled. */
const JOB_ANALYSES: Partial<Record<string, Analysis>> = { forecast: 'forecasts', pricing: 'pricing', experiments: 'experiments', customers: 'customers' };

export function jobApplies(caps: Record<Analysis, Availability>, job: string): boolean {
  const analysis = JOB_ANALYSES[job];
  return analysis === undefined || caps[analysis].available;
}
