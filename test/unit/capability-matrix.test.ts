import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capabilityMatrix } from '../../src/ingest/capability-matrix.ts';

describe('README capability matrix', () => {
  it('is the one the shipped profiles\' SQL files and manifests give', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const m = /<!-- capability-matrix -->\n([\s\S]*?)\n<!-- \/capability-matrix -->/.exec(readme);
    expect(m, 'README lacks the capability-matrix markers').not.toBeNull();
    expect(m![1]).toBe(capabilityMatrix());
  });
});
