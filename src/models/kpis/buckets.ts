/**
 * Time-zone bucketing for KPI series, in plain JS on top of Intl (the runtime's ICU), so the bucket
 * edges and labels are one tested function rather than SQL spread over queries.
 *
 * Rollups keep 15-minute UTC buckets. Every offset any IANA zone has used since 1970 is a multiple of
 * 15 minutes, so each local midnight is a point on that grid and local days, ISO weeks and months are
 * exact unions of rollup buckets, including 23- and 25-hour DST days.
 */

export const GRANULARITIES = ['day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const QUARTER_HOUR_MS = 15 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** One local calendar period clipped to the requested range: [start, end) in UTC. */
export interface Bucket {
  /** Local calendar date that starts the period (YYYY-MM-DD): the day, the ISO week's Monday, the month's 1st. */
  label: string;
  start: Date;
  end: Date;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True for a zone name the runtime's ICU knows (IANA names such as "Asia/Bangkok", and "UTC"). */
export function isValidTimeZone(tz: string): boolean {
  // Intl also accepts offsets like "+05:30" on newer runtimes; we only take IANA names.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

/** Wall-clock fields of instant `ms` in `tz`. */
export function localParts(ms: number, tz: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour! % 24, minute: out.minute!, second: out.second! };
}

/** Local calendar date (YYYY-MM-DD) of instant `ms` in `tz`. */
export function localDate(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  return isoDate(p.year, p.month, p.day);
}

/** Offset of `tz` from UTC at instant `ms`, in ms (east positive). */
export function tzOffsetMs(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The UTC instant of a local wall-clock time. A time skipped by a DST jump resolves to the instant
 * after the jump; a repeated time resolves to its first occurrence.
 */
export function zonedTimeToUtc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const before = wall - tzOffsetMs(wall - DAY_MS / 2, tz);
  const after = wall - tzOffsetMs(wall + DAY_MS / 2, tz);
  const fits = (u: number) => u + tzOffsetMs(u, tz) === wall;
  // Near a transition the offsets half a day either side differ; of the candidates that reproduce the
  // wall time the earlier one is the first occurrence of a repeated time.
  const candidates = [Math.min(before, after), Math.max(before, after)].filter(fits);
  if (candidates.length) return candidates[0]!;
  // In a gap: take the wall time with the offset in force before the jump, which lands after it.
  return wall - tzOffsetMs(wall - DAY_MS / 2, tz);
}

const dayStarts = new Map<string, number>();
const DAY_STARTS_MAX = 200_000;

/**
 * First instant (on the 15-minute UTC grid) whose local date in `tz` is `date` or later. Memoised:
 * each call costs several Intl formats, and a year of daily buckets asks for 366 of them per request.
 */
export function startOfLocalDay(date: string, tz: string): number {
  const key = `${tz}|${date}`;
  const hit = dayStarts.get(key);
  if (hit !== undefined) return hit;
  const v = computeStartOfLocalDay(date, tz);
  if (dayStarts.size >= DAY_STARTS_MAX) dayStarts.clear();
  dayStarts.set(key, v);
  return v;
}

function computeStartOfLocalDay(date: string, tz: string): number {
  const [y, m, d] = parseIsoDate(date);
  const midnightUtc = Date.UTC(y, m - 1, d);
  let u = midnightUtc - tzOffsetMs(midnightUtc, tz);
  u = Math.floor(u / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  // A couple of steps at most: the guess used the offset at UTC midnight, not at local midnight.
  for (let i = 0; i < 400 && localDate(u, tz) >= date; i++) {
    if (localDate(u - QUARTER_HOUR_MS, tz) < date) return u;
    u -= QUARTER_HOUR_MS;
  }
  for (let i = 0; i < 400; i++) {
    if (localDate(u, tz) >= date) return u;
    u += QUARTER_HOUR_MS;
  }
  throw new Error(`cannot find the start of ${date} in ${tz}`);
}

export function isoDate(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function parseIsoDate(date: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`not an ISO date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Calendar arithmetic on ISO dates (no time zone involved). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = parseIsoDate(date);
  const t = new Date(Date.UTC(y, m - 1, d) + n * DAY_MS);
  return isoDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** The label of the period containing `date`: itself, its ISO week's Monday, or the 1st of its month. */
export function periodStart(date: string, g: Granularity): string {
  const [y, m, d] = parseIsoDate(date);
  if (g === 'day') return date;
  if (g === 'month') return isoDate(y, m, 1);
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = Sunday
  return addDays(date, -((dow + 6) % 7));
}

/** The label of the period after the one labelled `label`. */
export function nextPeriod(label: string, g: Granularity): string {
  if (g === 'day') return addDays(label, 1);
  if (g === 'week') return addDays(label, 7);
  const [y, m] = parseIsoDate(label);
  return m === 12 ? isoDate(y + 1, 1, 1) : isoDate(y, m + 1, 1);
}

/**
 * Dense list of local periods covering [from, to) in `tz`; the first and last are clipped to the range.
 * Every label appears once, so a chart gets no holes.
 */
export function localBuckets(from: Date, to: Date, tz: string, g: Granularity): Bucket[] {
  const out: Bucket[] = [];
  const toMs = to.getTime();
  let label = periodStart(localDate(from.getTime(), tz), g);
  let start = from.getTime();
  while (start < toMs) {
    const next = nextPeriod(label, g);
    const nextStart = startOfLocalDay(next, tz);
    const end = Math.min(nextStart, toMs);
    if (end > start) out.push({ label, start: new Date(start), end: new Date(end) });
    label = next;
    start = Math.max(start, nextStart);
  }
  return out;
}

/** Number of periods localBuckets would return, without building them (for range limits). */
export function approxBucketCount(from: Date, to: Date, g: Granularity): number {
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  return Math.ceil(g === 'day' ? days : g === 'week' ? days / 7 : days / 28);
}
