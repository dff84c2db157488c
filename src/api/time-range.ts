import { approxBucketCount, type Granularity, QUARTER_HOUR_MS, startOfLocalDay, zonedTimeToUtc } from '../models/kpis/buckets.ts';
import { ApiError } from './errors.ts';

const DAY_MS = 86_400_000;
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);

/** Longest range per granularity (in days); ranges without a granularity use `none`. */
export const MAX_RANGE_DAYS: Record<Granularity | 'none', number> = { day: 1096, week: 3653, month: 10958, none: 3653 };
export const DEFAULT_RANGE_DAYS = 30;

/**
 * One `from`/`to` value → UTC instant. Accepted: epoch milliseconds ("1709251200000", what Grafana
 * sends); ISO-8601 with Z or an offset; a local date ("2024-03-10", midnight in `tz`); a local
 * date-time without offset ("2024-03-10T08:30", wall time in `tz`).
 */
export function parseInstant(raw: string, tz: string, name: string): Date {
  const s = raw.trim();
  let ms: number;
  let m: RegExpExecArray | null;
  if (/^-?\d{1,16}$/.test(s)) {
    ms = Number(s);
  } else if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s))) {
    checkDate(Number(m[1]), Number(m[2]), Number(m[3]), name, raw);
    ms = startOfLocalDay(s, tz);
  } else if ((m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s))) {
    const [, y, mo, d, h, mi, sec = '0', frac = '0', zone] = m;
    checkDate(Number(y), Number(mo), Number(d), name, raw);
    if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) throw ApiError.badParam(name, `"${raw}" is not a valid time`);
    const millis = Number(frac.padEnd(3, '0').slice(0, 3));
    if (zone) {
      const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), millis);
      const offset = zoneOffsetMs(zone);
      if (Math.abs(offset) > 14 * 3_600_000) throw ApiError.badParam(name, `"${raw}" has an offset beyond ±14:00`);
      ms = wall - offset;
    } else {
      ms = zonedTimeToUtc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec), millis, tz);
    }
  } else {
    throw ApiError.badParam(name, `"${raw}" is not an ISO-8601 date/time or epoch milliseconds`);
  }
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) throw ApiError.badParam(name, `"${raw}" is outside 1970-01-01..2200-01-01`);
  return new Date(ms);
}

function checkDate(y: number, m: number, d: number, name: string, raw: string): void {
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) {
    throw ApiError.badParam(name, `"${raw}" is not a valid calendar date`);
  }
}

function zoneOffsetMs(zone: string): number {
  if (/^z$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  if (Number(m[3] ?? 0) > 59) return Number.POSITIVE_INFINITY;
  const v = (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
  return m[1] === '-' ? -v : v;
}

export interface RangeInput {
  from?: string | undefined;
  to?: string | undefined;
  tz: string;
  granularity?: Granularity | undefined;
}

export interface ResolvedRange {
  from: Date;
  to: Date;
}

/**
 * Resolves a half-open [from, to) from query parameters, defaulting to the last 30 days ending now.
 * Rollups hold 15-minute UTC buckets, so the range widens to the smallest one on that grid that
 * contains the request (from rounds down, to rounds up); responses echo the range used.
 */
export function resolveRange(input: RangeInput, now: Date): ResolvedRange {
  const rawTo = input.to !== undefined ? parseInstant(input.to, input.tz, 'to') : now;
  const rawFrom = input.from !== undefined
    ? parseInstant(input.from, input.tz, 'from')
    : new Date(ceilQuarter(rawTo.getTime()) - DEFAULT_RANGE_DAYS * DAY_MS);
  if (rawFrom.getTime() >= rawTo.getTime()) {
    throw ApiError.badParam(input.from !== undefined ? 'from' : 'to', `from (${rawFrom.toISOString()}) must be before to (${rawTo.toISOString()})`);
  }
  const from = new Date(Math.floor(rawFrom.getTime() / QUARTER_HOUR_MS) * QUARTER_HOUR_MS);
  const to = new Date(ceilQuarter(rawTo.getTime()));
  const key = input.granularity ?? 'none';
  const maxDays = MAX_RANGE_DAYS[key];
  if (to.getTime() - from.getTime() > maxDays * DAY_MS || (input.granularity && approxBucketCount(from, to, input.granularity) > maxDays)) {
    const what = input.granularity ? `granularity=${input.granularity}` : 'this endpoint';
    throw ApiError.badParam('to', `the range spans more than ${maxDays} days, the most allowed for ${what}`);
  }
  return { from, to };
}

function ceilQuarter(ms: number): number {
  return Math.ceil(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
}

/** The period of equal length right before [from, to), for compare=previous_period. */
export function previousPeriod(r: ResolvedRange): ResolvedRange {
  const len = r.to.getTime() - r.from.getTime();
  return { from: new Date(r.from.getTime() - len), to: new Date(r.from.getTime()) };
}
