import { PROFILES } from '../config.ts';
import { ANALYSES, type Analysis, capabilities } from './capabilities.ts';
import { loadProfile, SHIPPED_PROFILES_DIR } from './profile.ts';
import { join } from 'node:path';

/** Column titles of the README's capability matrix, one per analysis. */
const TITLES: Record<Analysis, string> = {
  kpis: 'KPIs', subscriptions: 'MRR/churn', funnel: 'funnel', products: 'products', countries: 'countries', forecasts: 'forecasts',
  pricing: 'pricing', experiments: 'A/B tests', customers: 'customers', closers: 'AI vs admin', conversations: 'conversations',
};

/**
 * The README's capability matrix of the shipped profiles, rendered from their SQL files and
 * manifests (a unit test keeps the README equal to it): ✓ or —, and every — with its reason.
 */
export function capabilityMatrix(): string {
  const analyses = Object.keys(ANALYSES) as Analysis[];
  const lines = [`| profile | ${analyses.map((a) => TITLES[a]).join(' | ')} |`, `|---|${analyses.map(() => ':-:|').join('')}`];
  const reasons: string[] = [];
  for (const name of PROFILES) {
    const caps = capabilities(loadProfile({ name, dir: join(SHIPPED_PROFILES_DIR, name) }, { tenantId: 't', currency: 'USD' }));
    lines.push(`| \`${name}\` | ${analyses.map((a) => (caps[a].available ? '✓' : '—')).join(' | ')} |`);
    for (const a of analyses) {
      const c = caps[a];
      if (!c.available) reasons.push(`- \`${name}\`, ${TITLES[a]}: ${c.reason.replace(/^Profile [\w-]+ /, '')}`);
    }
  }
  return [...lines, '', ...reasons].join('\n');
}
