/**
 * The history's calendar and its demand-intensity multiplier m(t).
 *
 * Customers live in *operational time*: a purchase process with rate λ per operational day. Calendar
 * time t maps to operational time through M(t) = ∫ m(s) ds, with m piecewise constant per UTC hour:
 *
 *   m(t) = trend(day) × weekly[UTC weekday] × hourly[UTC hour]
 *   trend(day) = 1 + growthPerYear × (day + 0.5) / 365     (day = whole UTC days since start)
 *
 * `hourly` is normalised to mean 1, so the daily multiplier is exactly trend × weekly. Mapping a
 * purchase's operational time back through M⁻¹ stamps every aggregate series with the known weekly
 * shape and trend while each customer's process stays a textbook BG/NBD.
 */

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Weekly factors indexed by JS `getUTCDay()` (0 = Sunday). Not normalised: ratios are what matter. */
export const WEEKLY_FACTORS: readonly number[] = [1.2, 1.0, 0.95, 0.95, 1.0, 1.1, 1.3];
export const WEEKDAY_NAMES: readonly string[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
export const TREND_GROWTH_PER_YEAR = 0.2;

/** Relative shop activity by UTC hour (quiet nights, evening peak); normalised to mean 1 below. */
const HOURLY_RAW: readonly number[] = [
  0.35, 0.25, 0.2, 0.18, 0.2, 0.3, 0.5, 0.75, 0.95, 1.05, 1.1, 1.15, 1.2, 1.2, 1.15, 1.15, 1.2, 1.3, 1.45, 1.6,
  1.65, 1.5, 1.1, 0.65,
];
export const HOURLY_PROFILE: readonly number[] = (() => {
  const mean = HOURLY_RAW.reduce((s, x) => s + x, 0) / HOURLY_RAW.length;
  return HOURLY_RAW.map((x) => x / mean);
})();

export class Calendar {
  readonly startMs: number;
  readonly endMs: number;
  readonly days: number;
  /** Operational days elapsed per calendar hour, for each hour of the history. */
  private readonly hourRate: Float64Array;
  /** cum[h] = M at the start of hour h (operational days); cum[days*24] = total. */
  private readonly cum: Float64Array;
  readonly totalOperational: number;

  constructor(endMs: number, days: number) {
    this.endMs = endMs;
    this.days = days;
    this.startMs = endMs - days * DAY_MS;
    const hours = days * 24;
    this.hourRate = new Float64Array(hours);
    this.cum = new Float64Array(hours + 1);
    for (let d = 0; d < days; d++) {
      const daily = this.dailyMultiplier(d);
      for (let h = 0; h < 24; h++) this.hourRate[d * 24 + h] = (daily * HOURLY_PROFILE[h]!) / 24;
    }
    for (let h = 0; h < hours; h++) this.cum[h + 1] = this.cum[h]! + this.hourRate[h]!;
    this.totalOperational = this.cum[hours]!;
  }

  trend(day: number): number {
    return 1 + (TREND_GROWTH_PER_YEAR * (day + 0.5)) / 365;
  }

  weekday(day: number): number {
    return new Date(this.startMs + day * DAY_MS).getUTCDay();
  }

  /** trend × weekly factor for a history day (0-based). */
  dailyMultiplier(day: number): number {
    return this.trend(day) * WEEKLY_FACTORS[this.weekday(day)]!;
  }

  /** Calendar epoch-ms for an operational time in [0, totalOperational). */
  toCalendarMs(tau: number): number {
    const cum = this.cum;
    const lo = segmentOf(cum, tau);
    const frac = (tau - cum[lo]!) / this.hourRate[lo]!;
    return this.startMs + Math.floor((lo + Math.min(frac, 0.999999)) * HOUR_MS);
  }

  /** History day index of an epoch-ms (may be outside [0, days)). */
  dayOf(ms: number): number {
    return Math.floor((ms - this.startMs) / DAY_MS);
  }

  dayStartMs(day: number): number {
    return this.startMs + day * DAY_MS;
  }
}

const dateCache = new Map<number, string>();

/** 'YYYY-MM-DD' of the UTC day containing ms. */
export function formatDate(ms: number): string {
  const epochDay = Math.floor(ms / DAY_MS);
  let s = dateCache.get(epochDay);
  if (s === undefined) {
    s = new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
    if (dateCache.size > 100_000) dateCache.clear();
    dateCache.set(epochDay, s);
  }
  return s;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** 'YYYY-MM-DD HH:MM:SS.sss' (UTC wall clock) for a TIMESTAMP column; ms is floored to an integer. */
export function formatTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const epochDay = Math.floor(whole / DAY_MS);
  let r = whole - epochDay * DAY_MS;
  const h = Math.floor(r / HOUR_MS);
  r -= h * HOUR_MS;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const s = Math.floor(r / 1000);
  const milli = r - s * 1000;
  const ms3 = milli < 10 ? '00' + milli : milli < 100 ? '0' + milli : String(milli);
  return formatDate(whole) + ' ' + pad2(h) + ':' + pad2(m) + ':' + pad2(s) + '.' + ms3;
}

export function isoString(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

/** Add calendar months in UTC, clamping the day of month (Jan 31 + 1 month = Feb 28/29), like Stripe. */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const targetY = y + Math.floor(m / 12);
  const targetM = ((m % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetY, targetM + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(targetY, targetM, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/**
 * Index i of the segment [cum[i], cum[i + 1]) of a cumulative intensity that holds τ (the last one
 * when τ is past the end): where operational time τ falls in calendar time.
 */
export function segmentOf(cum: ArrayLike<number>, tau: number): number {
  let lo = 0;
  let hi = cum.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (cum[mid]! <= tau) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
