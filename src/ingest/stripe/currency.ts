/**
 * Stripe states amounts in a currency's minor unit as Stripe defines it, which is not always ISO
 * 4217's (ICU's) exponent: ISK, HUF and TWD stay two-decimal in its API though their minor unit is
 * not used, and UGX is zero-decimal. So the table is Stripe's (docs.stripe.com/currencies), by hand.
 */
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
/** Stripe requires their last digit to be 0, so they fit the warehouse's cents. */
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** Digits after the decimal point of a Stripe amount in `currency` (any case). */
export function minorUnitExponent(currency: string): number {
  const c = currency.toUpperCase();
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

/** A Stripe integer amount as an exact decimal string in major units (1999 USD → "19.99", 500 JPY → "500"). */
export function fromMinorUnits(amount: number | bigint, currency: string): string {
  const n = BigInt(amount);
  const exp = minorUnitExponent(currency);
  const digits = (n < 0n ? -n : n).toString().padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const frac = exp > 0 ? `.${digits.slice(digits.length - exp)}` : '';
  return `${n < 0n ? '-' : ''}${whole}${frac}`;
}

/**
 * `minor × num ÷ den` minor units as a major-unit decimal string rounded half away from zero to
 * cents (the warehouse's money scale): a yearly JPY 10,000 plan is 833.33 a month.
 */
export function scaledToCents(minor: bigint, num: bigint, den: bigint, currency: string): string {
  const scale = 10n ** BigInt(minorUnitExponent(currency));
  // cents = minor × num × 100 ÷ (den × scale), rounded half away from zero.
  const top = minor * num * 100n;
  const bottom = den * scale;
  const neg = top < 0n;
  const abs = neg ? -top : top;
  const cents = (2n * abs + bottom) / (2n * bottom);
  const s = cents.toString().padStart(3, '0');
  return `${neg && cents > 0n ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}
