/**
 * Traffic consistent with demand. For product j on day d, with U = that day's non-cancelled orders:
 *
 *   views_jd     = Poisson(viewsPerUnit_j × U × baseShare_j) + units_jd
 *   cart_adds_jd = units_jd + Poisson(cartAddRate_j × (views_jd − units_jd)), capped at views_jd
 *   sales_jd     = units_jd  (exactly the non-cancelled orders of j that UTC day)
 *
 * Views follow attractiveness at *base* prices, so price moves change conversion, not traffic.
 * page_views holds one aggregated row per (day, page) with user_id NULL and timestamp = day midnight.
 */
import type { Calendar } from './calendar.js';
import { formatTimestamp } from './calendar.js';
import type { Catalog } from './catalog.js';
import { csvRow } from './copy.js';
import type { ScanResult } from './orders-scan.js';
import { Rng, poisson, uuid } from './random.js';

export const STREAM_TRAFFIC = 0x7aff;

export const PAGE_MODEL = {
  /** '/' views per product view. */
  homePerProductView: 0.6,
  /** '/cart' views per cart add. */
  cartPerCartAdd: 1.4,
  /** '/checkout' views per order (any status). */
  checkoutPerOrder: 1.25,
  /** '/pricing' views per product view. */
  pricingPerProductView: 0.03,
} as const;

export interface Traffic {
  views: Int32Array;
  cartAdds: Int32Array;
}

export function computeTraffic(seed: number, cal: Calendar, catalog: Catalog, scan: ScanResult): Traffic {
  const days = cal.days;
  const P = catalog.products.length;
  const views = new Int32Array(P * days);
  const cartAdds = new Int32Array(P * days);
  const rng = new Rng(seed, STREAM_TRAFFIC);
  for (let d = 0; d < days; d++) {
    const dayUnits = scan.dayNonCancelled[d]!;
    for (let j = 0; j < P; j++) {
      const p = catalog.products[j]!;
      const u = scan.units[j * days + d]!;
      const v = poisson(rng, p.viewsPerUnit * dayUnits * catalog.baseShare[j]!) + u;
      views[j * days + d] = v;
      cartAdds[j * days + d] = Math.min(v, u + poisson(rng, p.cartAddRate * (v - u)));
    }
  }
  return { views, cartAdds };
}

export function* productMetricRows(seed: number, cal: Calendar, catalog: Catalog, scan: ScanResult, traffic: Traffic): Generator<string> {
  const rng = new Rng(seed, STREAM_TRAFFIC + 1);
  const days = cal.days;
  for (let d = 0; d < days; d++) {
    const ts = formatTimestamp(cal.dayStartMs(d));
    for (const p of catalog.products) {
      const x = p.index * days + d;
      yield csvRow([uuid(rng), p.id, traffic.views[x]!, scan.units[x]!, traffic.cartAdds[x]!, ts]);
    }
  }
}

export function* pageViewRows(seed: number, cal: Calendar, catalog: Catalog, scan: ScanResult, traffic: Traffic): Generator<string> {
  const rng = new Rng(seed, STREAM_TRAFFIC + 2);
  const days = cal.days;
  for (let d = 0; d < days; d++) {
    const ts = formatTimestamp(cal.dayStartMs(d));
    let productViews = 0;
    let carts = 0;
    for (const p of catalog.products) {
      productViews += traffic.views[p.index * days + d]!;
      carts += traffic.cartAdds[p.index * days + d]!;
    }
    const fixed: Array<[string, number]> = [
      ['/', poisson(rng, PAGE_MODEL.homePerProductView * productViews)],
      ['/cart', poisson(rng, PAGE_MODEL.cartPerCartAdd * carts)],
      ['/checkout', poisson(rng, PAGE_MODEL.checkoutPerOrder * scan.dayOrders[d]!)],
      ['/pricing', poisson(rng, PAGE_MODEL.pricingPerProductView * productViews)],
    ];
    for (const [page, count] of fixed) if (count > 0) yield csvRow([uuid(rng), page, null, count, ts]);
    for (const p of catalog.products) {
      const v = traffic.views[p.index * days + d]!;
      if (v > 0) yield csvRow([uuid(rng), `/products/${p.id}`, null, v, ts]);
    }
  }
}
