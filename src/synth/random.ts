/**
 * Deterministic randomness for the synthetic data generators.
 *
 * `Rng` is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes
 * PractRand, and is fast in JavaScript because it only uses 32-bit integer ops. Every independent
 * stream (one per customer, per order, per table) is seeded from `(seed, stream, index…)` through a
 * hash, so any entity can be regenerated on its own without replaying everything before it — that is
 * what lets the generator stream each table in a separate pass with constant memory.
 */

const TWO_POW_32_INV = 1 / 4294967296;

/** murmur3's 32-bit finaliser: a good avalanche for seed mixing. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash integers (each folded to 32 bits, high bits included) into one 32-bit word, from a starting state. */
function hashParts(init: number, parts: readonly number[]): number {
  let h = init;
  for (const part of parts) {
    const lo = part >>> 0;
    const hi = Math.floor(part / 4294967296) >>> 0;
    h = fmix32((h ^ lo) + Math.imul(hi, 0x27d4eb2f) + 0x165667b1);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return fmix32(h);
}

/** Hash any number of non-negative integers into one 32-bit word (for sampling decisions). */
export function mixSeed(...parts: number[]): number {
  return hashParts(0x9e3779b9, parts);
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(...seedParts: number[]) {
    this.reseed(...seedParts);
  }

  /**
   * Reset the state from seed parts; reusing one object avoids an allocation per order. Three
   * differently-initialised hashes fill 96 bits of state, so millions of streams (one per order) do
   * not collide the way 32-bit seeds would (birthday bound ~2^16 streams).
   */
  reseed(...seedParts: number[]): this {
    this.a = hashParts(0x9e3779b9, seedParts);
    this.b = hashParts(0x243f6a88, seedParts);
    this.c = hashParts(0xb7e15162, seedParts);
    this.d = 1;
    // sfc32 needs a few rounds before nearby seeds decorrelate.
    for (let i = 0; i < 12; i++) this.nextU32();
    return this;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution (enough for every sampler here). */
  next(): number {
    return this.nextU32() * TWO_POW_32_INV;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bernoulli(p: number): boolean {
    return this.next() < p;
  }
}

/** Standard normal by Box–Muller (no cached spare, so the stream position never depends on history). */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  const u1 = 1 - rng.next(); // (0, 1]
  const u2 = rng.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Exponential with the given rate (mean 1/rate). */
export function exponential(rng: Rng, rate = 1): number {
  return -Math.log(1 - rng.next()) / rate;
}

/** Gamma(shape, rate) by Marsaglia & Tsang (2000); shape < 1 uses the u^(1/shape) boost. Mean shape/rate. */
export function gamma(rng: Rng, shape: number, rate = 1): number {
  if (shape < 1) {
    const u = 1 - rng.next();
    return gamma(rng, shape + 1, rate) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
  }
}

/** Beta(a, b) as X/(X+Y) with X~Gamma(a), Y~Gamma(b). Mean a/(a+b). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Lognormal parameterised by its mean and the sd of log(x): mean = exp(mu + sigma²/2). */
export function lognormalWithMean(rng: Rng, mean: number, sigma: number): number {
  const mu = Math.log(mean) - (sigma * sigma) / 2;
  return Math.exp(normal(rng, mu, sigma));
}

function logFactorial(k: number): number {
  // Stirling series; exact enough (error < 1e-10 for k >= 10) for the PTRS acceptance test.
  if (k < 10) {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    return Math.log(f);
  }
  const k1 = k + 1;
  return (k1 - 0.5) * Math.log(k1) - k1 + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k1) - 1 / (360 * k1 * k1 * k1);
}

/** Poisson(mean): multiplication method below 30, Hörmann's PTRS transformed rejection above. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let prod = rng.next();
    while (prod > limit) {
      k++;
      prod *= rng.next();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const logLam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = 1 - rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logLam - logFactorial(k)) return k;
  }
}

/** Index into a cumulative (non-decreasing, last = total) weight array for a uniform u in [0,1). */
export function pickCumulative(cum: ArrayLike<number>, offset: number, length: number, u: number): number {
  const target = u * cum[offset + length - 1]!;
  let lo = 0;
  let hi = length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[offset + mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Pick from a small discrete distribution given as probabilities summing to ~1. */
export function pickWeighted(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(w: number): string {
  return HEX[(w >>> 24) & 255]! + HEX[(w >>> 16) & 255]! + HEX[(w >>> 8) & 255]! + HEX[w & 255]!;
}

/** RFC 4122 version-4 UUID from four random 32-bit words (version nibble 4, variant 10xx). */
export function uuidFromWords(w0: number, w1: number, w2: number, w3: number): string {
  const timeMid = (w1 >>> 16) & 0xffff;
  const timeHi = (w1 & 0x0fff) | 0x4000;
  const clock = ((w2 >>> 16) & 0x3fff) | 0x8000;
  const nodeHi = w2 & 0xffff;
  return (
    hex32(w0) +
    '-' +
    HEX[timeMid >>> 8]! +
    HEX[timeMid & 255]! +
    '-' +
    HEX[timeHi >>> 8]! +
    HEX[timeHi & 255]! +
    '-' +
    HEX[clock >>> 8]! +
    HEX[clock & 255]! +
    '-' +
    HEX[nodeHi >>> 8]! +
    HEX[nodeHi & 255]! +
    hex32(w3)
  );
}

export function uuid(rng: Rng): string {
  return uuidFromWords(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random base62 string, Stripe-id style (5 characters per 32-bit draw; 62^5 < 2^32). */
export function base62(rng: Rng, length: number): string {
  let out = '';
  while (out.length < length) {
    let w = rng.nextU32();
    for (let i = 0; i < 5 && out.length < length; i++) {
      out += BASE62[w % 62]!;
      w = Math.floor(w / 62);
    }
  }
  return out;
}
