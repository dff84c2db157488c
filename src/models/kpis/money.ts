/**
 * Exact decimal arithmetic for money that left DuckDB as a DECIMAL string ("1234.50"). Amounts are
 * handled as integer minor units (bigint, scale 2) so a delta or an average is never a float.
 */

export interface Money {
  currency: string;
  /** Decimal string with two fraction digits, e.g. "1234.50". */
  amount: string;
}

const SCALE = 2;
const FACTOR = 10n ** BigInt(SCALE);

/** "12.3" | "-0.05" | "7" → minor units (bigint). Throws on anything else. */
export function toMinor(amount: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new Error(`not a decimal amount: ${JSON.stringify(amount)}`);
  const [, sign, int, frac = ''] = m;
  if (frac.length > SCALE && /[1-9]/.test(frac.slice(SCALE))) throw new Error(`more than ${SCALE} decimals: ${amount}`);
  const v = BigInt(int!) * FACTOR + BigInt((frac + '00').slice(0, SCALE));
  return sign ? -v : v;
}

/** Minor units → "1234.50". */
export function fromMinor(v: bigint): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const int = abs / FACTOR;
  const frac = (abs % FACTOR).toString().padStart(SCALE, '0');
  return `${neg ? '-' : ''}${int}.${frac}`;
}

/** Normalises any decimal string to two fraction digits. */
export function normaliseAmount(amount: string): string {
  return fromMinor(toMinor(amount));
}

/** a − b on decimal strings. */
export function subtractAmounts(a: string, b: string): string {
  return fromMinor(toMinor(a) - toMinor(b));
}

/** amount ÷ n rounded half away from zero to cents; null when n is 0. */
export function divideAmount(amount: string, n: number | bigint): string | null {
  const d = BigInt(n);
  if (d === 0n) return null;
  const v = toMinor(amount);
  const neg = v < 0n !== d < 0n;
  const av = v < 0n ? -v : v;
  const ad = d < 0n ? -d : d;
  const q = (2n * av + ad) / (2n * ad);
  return fromMinor(neg ? -q : q);
}

/** amount × k (an integer), e.g. ARR = 12 × MRR. */
export function multiplyAmount(amount: string, k: number): string {
  return fromMinor(toMinor(amount) * BigInt(k));
}

/** Relative change (cur − prev) / |prev| as a number; null when prev is 0. */
export function relativeChange(current: string, previous: string): number | null {
  const p = toMinor(previous);
  if (p === 0n) return null;
  const c = toMinor(current);
  // Ratios are reported as numbers; precision beyond a double's is meaningless for a percentage.
  return Number(c - p) / Math.abs(Number(p));
}

/** Sorts money entries by currency code so responses are stable. */
export function byCurrency<T extends { currency: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}
