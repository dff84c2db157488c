/**
 * Customers as a BG/NBD process (Fader, Hardie & Lee 2005), simulated in operational time.
 *
 * Customer i: λ_i ~ Gamma(shape r, rate α) purchases per operational day; p_i ~ Beta(a, b). The
 * customer is born with a first purchase at operational time τ_b ~ Uniform(0, M(end)) — i.e. births
 * follow the same intensity m(t) (trend × weekly × hourly) as purchases. Repeat purchases come after
 * Exp(λ_i) operational gaps; after each repeat purchase the customer drops out with probability p_i
 * (never at the first purchase, as in the paper). Operational times map to calendar times through the
 * calendar's M⁻¹.
 *
 * Everything about customer i comes from its own seeded streams, so each table pass can regenerate
 * the same customer independently: `(seed, CUSTOMER, i)` for the header and purchase process,
 * `(seed, ORDER_DETAIL, i, k)` for the k-th order's ids and payment timings.
 */
import type { Calendar } from './calendar.js';
import { DAY_MS } from './calendar.js';
import type { Catalog } from './catalog.js';
import { Rng, beta, exponential, gamma, pickCumulative, pickWeighted } from './random.js';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export const BGNBD: BgNbdParams = { r: 0.25, alpha: 12, a: 0.8, b: 2.5 };

export const STREAM_CUSTOMER = 0xc057;
export const STREAM_CUSTOMER_DETAIL = 0xc0de;
export const STREAM_ORDER_DETAIL = 0x0de7;

/** Order status codes; the strings are what the `orders.status` column holds. */
export const ORDER_STATUSES = ['completed', 'cancelled', 'refunded', 'pending'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const OS_COMPLETED = 0;
export const OS_CANCELLED = 1;
export const OS_REFUNDED = 2;
export const OS_PENDING = 3;

export const STATUS_MODEL = {
  cancelledProbability: 0.03,
  refundedProbability: 0.02,
  /** Orders placed within this many days of the end are 'pending' with `pendingProbability`. */
  pendingWindowDays: 3,
  pendingProbability: 0.8,
  /** P(at least one failed payment attempt before the successful one) for non-cancelled orders. */
  failedAttemptProbability: 0.035,
  /** P(another failed attempt | one just failed). */
  repeatFailureProbability: 0.15,
} as const;

export const COUNTRIES: readonly string[] = ['US', 'GB', 'DE', 'FR', 'TH', 'JP', 'CA', 'AU', 'BR', 'IN'];
export const COUNTRY_WEIGHTS: readonly number[] = [0.35, 0.1, 0.09, 0.07, 0.08, 0.07, 0.06, 0.05, 0.06, 0.07];
export const PASSWORD_STRENGTHS: readonly string[] = ['weak', 'medium', 'strong'];
const PASSWORD_WEIGHTS: readonly number[] = [0.15, 0.45, 0.4];

const MAX_FAILED_ATTEMPTS = 4;

export class CustomerSimulator {
  private readonly rng = new Rng(0);
  private readonly pendingFromMs: number;

  // Header of the current customer.
  index = 0;
  readonly idWords = new Uint32Array(4);
  birthMs = 0;
  createdMs = 0;
  lambda = 0;
  p = 0;
  country = 0;
  passwordStrength = 0;
  /** Calendar time of the purchase after which the customer dropped out; null if alive at the end. */
  droppedMs: number | null = null;

  // Orders of the current customer (struct of arrays, grown on demand).
  count = 0;
  ms = new Float64Array(64);
  product = new Int32Array(64);
  status = new Uint8Array(64);
  priceCents = new Int32Array(64);
  failedAttempts = new Uint8Array(64);

  constructor(
    private readonly seed: number,
    private readonly cal: Calendar,
    private readonly catalog: Catalog,
    private readonly params: BgNbdParams = BGNBD,
  ) {
    this.pendingFromMs = cal.endMs - STATUS_MODEL.pendingWindowDays * DAY_MS;
  }

  /** Generate customer i; with `withOrders` false only the header (ids, birth, λ, p, country) is drawn. */
  run(i: number, withOrders: boolean): void {
    const rng = this.rng.reseed(this.seed, STREAM_CUSTOMER, i);
    this.index = i;
    for (let w = 0; w < 4; w++) this.idWords[w] = rng.nextU32();
    const tauBirth = rng.next() * this.cal.totalOperational;
    this.birthMs = this.cal.toCalendarMs(tauBirth);
    // Sign-up happens at or shortly before the first purchase (minutes to a couple of days).
    this.createdMs = this.birthMs - Math.floor(exponential(rng, 1) * 0.5 * DAY_MS * (rng.next() < 0.6 ? 0.02 : 1));
    this.lambda = gamma(rng, this.params.r, this.params.alpha);
    this.p = beta(rng, this.params.a, this.params.b);
    this.country = pickWeighted(COUNTRY_WEIGHTS, rng.next());
    this.passwordStrength = pickWeighted(PASSWORD_WEIGHTS, rng.next());
    this.droppedMs = null;
    this.count = 0;
    if (!withOrders) return;

    this.addOrder(this.birthMs, rng);
    let tau = tauBirth;
    const total = this.cal.totalOperational;
    for (;;) {
      tau += exponential(rng, 1) / this.lambda;
      if (!(tau < total)) break;
      const ms = this.cal.toCalendarMs(tau);
      this.addOrder(ms, rng);
      if (rng.next() < this.p) {
        this.droppedMs = ms;
        break;
      }
    }
  }

  private addOrder(ms: number, rng: Rng): void {
    if (this.count === this.ms.length) this.grow();
    const k = this.count++;
    const cal = this.cal;
    const day = Math.min(cal.days - 1, Math.max(0, cal.dayOf(ms)));
    const P = this.catalog.products.length;
    const j = pickCumulative(this.catalog.choiceCum, day * P, P, rng.next());
    this.ms[k] = ms;
    this.product[k] = j;
    this.priceCents[k] = this.catalog.priceCents[j * cal.days + day]!;
    let u = rng.next();
    let status = OS_COMPLETED;
    if (ms >= this.pendingFromMs && u < STATUS_MODEL.pendingProbability) status = OS_PENDING;
    else {
      if (ms >= this.pendingFromMs) u = (u - STATUS_MODEL.pendingProbability) / (1 - STATUS_MODEL.pendingProbability);
      if (u < STATUS_MODEL.cancelledProbability) status = OS_CANCELLED;
      else if (u < STATUS_MODEL.cancelledProbability + STATUS_MODEL.refundedProbability) status = OS_REFUNDED;
    }
    this.status[k] = status;
    let failed = 0;
    if (status !== OS_CANCELLED && rng.next() < STATUS_MODEL.failedAttemptProbability) {
      failed = 1;
      while (failed < MAX_FAILED_ATTEMPTS && rng.next() < STATUS_MODEL.repeatFailureProbability) failed++;
    }
    this.failedAttempts[k] = failed;
  }

  private grow(): void {
    const n = this.ms.length * 2;
    const ms = new Float64Array(n);
    ms.set(this.ms);
    this.ms = ms;
    const product = new Int32Array(n);
    product.set(this.product);
    this.product = product;
    const status = new Uint8Array(n);
    status.set(this.status);
    this.status = status;
    const price = new Int32Array(n);
    price.set(this.priceCents);
    this.priceCents = price;
    const failed = new Uint8Array(n);
    failed.set(this.failedAttempts);
    this.failedAttempts = failed;
  }
}
