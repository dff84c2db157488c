import { describe, expect, it } from 'vitest';
import { sinceFor } from '../../src/ingest/run.ts';
import { pullQuery } from '../../src/ingest/pull.ts';

describe('incremental window', () => {
  it('re-reads the lookback before the watermark', () => {
    expect(sinceFor(null, 10)).toBeNull();
    expect(sinceFor('2026-01-07 09:30:00', 10)).toBe('2026-01-07 09:20:00.000');
    expect(sinceFor('2026-01-01 00:05:00.123456', 10)).toBe('2025-12-31 23:55:00.123');
    expect(sinceFor('2026-03-29 01:00:00', 0)).toBe('2026-03-29 01:00:00.000');
  });

  it('wraps the profile SELECT with the cursor filter', () => {
    const q = pullQuery('SELECT 1 AS a, now() AS _cursor_ts', { since: '2026-01-01 00:00:00.000' });
    expect(q).toContain("q._cursor_ts >= '2026-01-01 00:00:00.000'::timestamp");
    expect(pullQuery('SELECT 1')).not.toContain('WHERE');
  });
});
