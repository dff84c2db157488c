import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, localBuckets, periodStart, startOfLocalDay, zonedTimeToUtc } from '../../src/models/kpis/buckets.ts';

const HOUR = 3_600_000;
const Q = 15 * 60_000;

/**
 * Independent reference: walk the UTC timeline minute by minute with Intl and record each instant
 * where the local calendar date changes. No offset arithmetic involved.
 */
function dayStartsByScan(fromMs: number, toMs: number, tz: string): Map<string, number> {
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const out = new Map<string, number>();
  let prev = fmt.format(new Date(fromMs - 60_000));
  for (let t = fromMs; t < toMs; t += 60_000) {
    const d = fmt.format(new Date(t));
    if (d !== prev) out.set(d, t);
    prev = d;
  }
  return out;
}

describe('local day boundaries', () => {
  it.each([
    ['America/New_York', '2024-03-08', '2024-03-13'],
    ['America/New_York', '2024-11-01', '2024-11-06'],
    ['Asia/Kolkata', '2024-03-08', '2024-03-13'],
    ['Asia/Kathmandu', '2024-06-01', '2024-06-04'],
    ['Australia/Lord_Howe', '2024-04-05', '2024-04-09'], // 30-minute DST shift
    ['Europe/London', '2024-10-25', '2024-10-30'],
    ['Pacific/Apia', '2011-12-28', '2012-01-02'], // skipped 2011-12-30 entirely
  ])('%s from %s to %s match a minute-by-minute Intl scan', (tz, a, b) => {
    const fromMs = Date.parse(`${a}T00:00:00Z`) - 20 * HOUR;
    const toMs = Date.parse(`${b}T00:00:00Z`) + 20 * HOUR;
    const reference = dayStartsByScan(fromMs, toMs, tz);
    expect(reference.size).toBeGreaterThan(2);
    for (const [date, start] of reference) expect(startOfLocalDay(date, tz), `${tz} ${date}`).toBe(start);
  });

  it('gives New York a 23-hour and a 25-hour day at the 2024 DST changes', () => {
    const days = localBuckets(new Date('2024-03-09T05:00:00Z'), new Date('2024-03-12T04:00:00Z'), 'America/New_York', 'day');
    expect(days.map((d) => [d.label, (d.end.getTime() - d.start.getTime()) / HOUR])).toEqual([
      ['2024-03-09', 24], ['2024-03-10', 23], ['2024-03-11', 24],
    ]);
    expect(days[1]!.start.toISOString()).toBe('2024-03-10T05:00:00.000Z');
    expect(days[2]!.start.toISOString()).toBe('2024-03-11T04:00:00.000Z');
    const fall = localBuckets(new Date('2024-11-03T04:00:00Z'), new Date('2024-11-04T05:00:00Z'), 'America/New_York', 'day');
    expect(fall.map((d) => [d.label, (d.end.getTime() - d.start.getTime()) / HOUR])).toEqual([['2024-11-03', 25]]);
  });

  it('starts Kolkata days at 18:30 UTC the day before', () => {
    expect(new Date(startOfLocalDay('2024-03-10', 'Asia/Kolkata')).toISOString()).toBe('2024-03-09T18:30:00.000Z');
  });
});

describe('weeks and months', () => {
  it('labels ISO weeks by their Monday and months by the 1st', () => {
    expect(periodStart('2024-03-10', 'week')).toBe('2024-03-04'); // a Sunday
    expect(periodStart('2024-03-11', 'week')).toBe('2024-03-11'); // a Monday
    expect(periodStart('2024-03-31', 'month')).toBe('2024-03-01');
  });

  it('clips the first and last bucket to the range and never leaves a hole', () => {
    const from = new Date('2024-02-20T00:00:00Z');
    const to = new Date('2024-04-10T12:00:00Z');
    const months = localBuckets(from, to, 'Europe/Berlin', 'month');
    expect(months.map((m) => m.label)).toEqual(['2024-02-01', '2024-03-01', '2024-04-01']);
    expect(months[0]!.start).toEqual(from);
    expect(months[1]!.start.toISOString()).toBe('2024-02-29T23:00:00.000Z');
    expect(months[2]!.start.toISOString()).toBe('2024-03-31T22:00:00.000Z'); // after the switch to CEST
    expect(months.at(-1)!.end).toEqual(to);
  });

  it('covers any range exactly, with contiguous buckets labelled by the local period of their start', () => {
    const zones = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Bangkok', 'Europe/London'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2015, 0, 1) / Q, max: Date.UTC(2030, 0, 1) / Q }),
        fc.integer({ min: 1, max: 400 * 96 }),
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'week' as const, 'month' as const),
        (startQ, lenQ, tz, g) => {
          const from = new Date(startQ * Q);
          const to = new Date((startQ + lenQ) * Q);
          const buckets = localBuckets(from, to, tz, g);
          expect(buckets[0]!.start).toEqual(from);
          expect(buckets.at(-1)!.end).toEqual(to);
          const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
          for (let i = 0; i < buckets.length; i++) {
            const b = buckets[i]!;
            expect(b.end.getTime()).toBeGreaterThan(b.start.getTime());
            if (i > 0) expect(b.start).toEqual(buckets[i - 1]!.end);
            expect(periodStart(fmt.format(b.start), g)).toBe(b.label);
            expect(periodStart(fmt.format(new Date(b.end.getTime() - 1)), g)).toBe(b.label);
            expect(b.start.getTime() % Q).toBe(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('zones and wall times', () => {
  it('accepts IANA names and rejects everything else', () => {
    expect(isValidTimeZone('Asia/Bangkok')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('+05:30')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('resolves skipped wall times after the jump and repeated ones to the first occurrence', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(iso(zonedTimeToUtc(2024, 3, 10, 2, 30, 0, 0, 'America/New_York'))).toBe('2024-03-10T07:30:00.000Z');
    expect(iso(zonedTimeToUtc(2024, 11, 3, 1, 30, 0, 0, 'America/New_York'))).toBe('2024-11-03T05:30:00.000Z');
    expect(iso(zonedTimeToUtc(2024, 7, 1, 12, 0, 0, 0, 'Asia/Kolkata'))).toBe('2024-07-01T06:30:00.000Z');
  });
});
