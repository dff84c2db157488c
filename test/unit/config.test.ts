import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { generateApiKey, hashApiKey } from '../../src/api-keys.ts';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PROFILE: 'pricing-platform', PORT: 8787, LOOKBACK_MINUTES: 10, INGEST_SCHEDULE: '*/5 * * * *', API_KEYS: [] });
  });

  it('lists every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', PROFILE: 'nope', INGEST_SCHEDULE: 'every minute', SOURCE_DATABASE_URL: 'not a url', API_KEYS: 'abc:t1:read' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(['API_KEYS', 'INGEST_SCHEDULE', 'PORT', 'PROFILE', 'SOURCE_DATABASE_URL']);
    expect((err as ConfigError).message).toContain('Invalid configuration');
  });

  it('parses API keys as hashes with a tenant and scopes, never the key itself', () => {
    const { key, entry } = generateApiKey('shop-1', ['read', 'pricing:write']);
    const c = loadConfig({ API_KEYS: `${entry}, ${generateApiKey('shop-2').entry}` });
    expect(c.API_KEYS).toHaveLength(2);
    expect(c.API_KEYS[0]).toEqual({ hash: hashApiKey(key), tenantId: 'shop-1', scopes: ['read', 'pricing:write'] });
    expect(JSON.stringify(c)).not.toContain(key);
    expect(() => loadConfig({ API_KEYS: `${'a'.repeat(64)}:t:read+fly` })).toThrow(/unknown scope/);
  });

  it('reads the model settings, and names each bad one', () => {
    const c = loadConfig({ FORECAST_LEVELS: '95, 80', FORECAST_HOLIDAYS: '2026-12-25,2027-01-01', PRICING_ENDING: 'none',
      PRICING_CATEGORY_SETTINGS: '{"grocery": {"minMargin": 0.05, "overstockDays": 90}}' });
    expect(c).toMatchObject({ FORECAST_LEVELS: [80, 95], FORECAST_HOLIDAYS: ['2026-12-25', '2027-01-01'], PRICING_ENDING: null,
      PRICING_CATEGORY_SETTINGS: { grocery: { minMargin: 0.05, overstockDays: 90 } }, PRICING_AUTO_APPLY: false, FORECAST_WRITE_BACK: false });
    let err: unknown;
    try {
      loadConfig({ FORECAST_LEVELS: '80,120', FORECAST_HOLIDAYS: 'christmas', PRICING_ENDING: '1.5', PRICING_CATEGORY_SETTINGS: '{"toys": {"margin": 1}}', PRICING_MAX_CHANGE: '2' });
    } catch (e) {
      err = e;
    }
    const problems = (err as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(['FORECAST_HOLIDAYS', 'FORECAST_LEVELS', 'PRICING_CATEGORY_SETTINGS', 'PRICING_ENDING', 'PRICING_MAX_CHANGE']);
  });
});
