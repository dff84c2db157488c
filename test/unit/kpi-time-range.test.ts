import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.ts';
import { parseInstant, previousPeriod, resolveRange } from '../../src/api/time-range.ts';

function badParam(fn: () => unknown): { name: string | undefined; detail: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.code).toBe('bad_request');
    return { name: e.extra.invalidParams?.[0]?.name, detail: e.detail };
  }
  throw new Error('expected a bad parameter error');
}

describe('parseInstant', () => {
  it.each([
    ['1709251200000', 'UTC', '2024-03-01T00:00:00.000Z'],
    ['2024-03-01T00:00:00Z', 'Asia/Tokyo', '2024-03-01T00:00:00.000Z'],
    ['2024-03-01T07:00:00+07:00', 'UTC', '2024-03-01T00:00:00.000Z'],
    ['2024-03-01T05:30:00.250+0530', 'UTC', '2024-03-01T00:00:00.250Z'],
    ['2024-03-10', 'America/New_York', '2024-03-10T05:00:00.000Z'],
    ['2024-03-11', 'America/New_York', '2024-03-11T04:00:00.000Z'],
    ['2024-03-10T12:00', 'Asia/Bangkok', '2024-03-10T05:00:00.000Z'],
    ['2024-03-10 12:00:00', 'UTC', '2024-03-10T12:00:00.000Z'],
  ])('%s in %s → %s', (raw, tz, iso) => {
    expect(parseInstant(raw, tz, 'from').toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2024-02-30', '2024-13-01', '2024-03-01T25:00Z', '', '1e12', '2024-03-01T00:00:00+99'])(
    'rejects %j naming the parameter',
    (raw) => {
      expect(badParam(() => parseInstant(raw, 'UTC', 'to')).name).toBe('to');
    },
  );

  it('rejects instants outside 1970..2200', () => {
    expect(badParam(() => parseInstant('1960-01-01', 'UTC', 'from')).name).toBe('from');
  });
});

describe('resolveRange', () => {
  const now = new Date('2024-06-15T12:07:31Z');

  it('defaults to the 30 days ending now, widened to the 15-minute grid', () => {
    const r = resolveRange({ tz: 'UTC' }, now);
    expect(r.to.toISOString()).toBe('2024-06-15T12:15:00.000Z');
    expect(r.from.toISOString()).toBe('2024-05-16T12:15:00.000Z');
  });

  it('rounds from down and to up', () => {
    const r = resolveRange({ from: '2024-06-01T00:05:00Z', to: '2024-06-02T00:00:01Z', tz: 'UTC' }, now);
    expect(r.from.toISOString()).toBe('2024-06-01T00:00:00.000Z');
    expect(r.to.toISOString()).toBe('2024-06-02T00:15:00.000Z');
  });

  it('requires from < to', () => {
    const e = badParam(() => resolveRange({ from: '2024-06-02', to: '2024-06-01', tz: 'UTC' }, now));
    expect(e.name).toBe('from');
    expect(e.detail).toContain('before');
  });

  it('limits the range per granularity', () => {
    expect(badParam(() => resolveRange({ from: '2020-01-01', to: '2024-01-01', tz: 'UTC', granularity: 'day' }, now)).name).toBe('to');
    expect(resolveRange({ from: '2020-01-01', to: '2024-01-01', tz: 'UTC', granularity: 'week' }, now).from.toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it('gives the previous period of equal length', () => {
    const p = previousPeriod({ from: new Date('2024-03-01T00:00:00Z'), to: new Date('2024-03-08T00:00:00Z') });
    expect([p.from.toISOString(), p.to.toISOString()]).toEqual(['2024-02-23T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
  });
});
