/**
 * The product catalogue: categories, per-product true elasticity and attractiveness, and the price
 * history. Prices change only at UTC midnight, so demand can be tabulated per day: `choiceCum` holds,
 * for each history day, the cumulative choice weights
 *
 *   w_j(d) = attractiveness_j × (price_j(d) / base_price_j) ^ elasticity_j
 *
 * and an order picks product j with probability w_j(d) / Σ_k w_k(d). With hundreds of products the
 * normaliser barely moves, so a product's expected daily units scale as (price/base)^elasticity.
 */
import { DAY_MS } from './calendar.js';
import { Rng, normal, uuid } from './random.js';

export interface CategorySpec {
  name: string;
  meanElasticity: number;
  priceRange: [number, number];
  nouns: readonly string[];
}

export const CATEGORIES: readonly CategorySpec[] = [
  { name: 'electronics', meanElasticity: -0.9, priceRange: [40, 900], nouns: ['Headphones', 'Speaker', 'Charger', 'Monitor', 'Keyboard', 'Camera', 'Router', 'Smartwatch'] },
  { name: 'home', meanElasticity: -1.3, priceRange: [15, 250], nouns: ['Lamp', 'Blanket', 'Cookware Set', 'Vase', 'Kettle', 'Pillow', 'Rug', 'Clock'] },
  { name: 'sports', meanElasticity: -1.5, priceRange: [12, 300], nouns: ['Yoga Mat', 'Dumbbells', 'Running Shoes', 'Water Bottle', 'Racket', 'Backpack', 'Jump Rope', 'Helmet'] },
  { name: 'beauty', meanElasticity: -1.7, priceRange: [6, 90], nouns: ['Serum', 'Moisturiser', 'Lipstick', 'Shampoo', 'Perfume', 'Face Mask', 'Sunscreen', 'Hair Oil'] },
  { name: 'toys', meanElasticity: -1.9, priceRange: [8, 120], nouns: ['Puzzle', 'Building Set', 'Plush Bear', 'RC Car', 'Board Game', 'Doll', 'Kite', 'Train Set'] },
  { name: 'fashion', meanElasticity: -2.2, priceRange: [12, 200], nouns: ['Jacket', 'Sneakers', 'Scarf', 'Jeans', 'Sunglasses', 'Hoodie', 'Handbag', 'Belt'] },
  { name: 'books', meanElasticity: -2.5, priceRange: [6, 45], nouns: ['Novel', 'Cookbook', 'Atlas', 'Biography', 'Poetry Collection', 'Workbook', 'Comic', 'Guide'] },
  { name: 'grocery', meanElasticity: -2.9, priceRange: [3, 30], nouns: ['Coffee Beans', 'Olive Oil', 'Green Tea', 'Honey', 'Granola', 'Dark Chocolate', 'Pasta', 'Spice Mix'] },
];

const ADJECTIVES = ['Classic', 'Pro', 'Eco', 'Nova', 'Urban', 'Zen', 'Aurora', 'Summit', 'Pure', 'Vivid', 'Prime', 'Atlas'];

export const PRODUCT_ELASTICITY_SD = 0.35;
export const ELASTICITY_CAP = -0.2;
export const FLAT_PRICE_SHARE = 0.1;
export const PRICE_FACTOR_RANGE: [number, number] = [0.75, 1.25];

export interface PricePeriod {
  /** First history day (0-based) the price applies from (at UTC midnight). */
  fromDay: number;
  priceCents: number;
}

export interface Product {
  index: number;
  id: string;
  name: string;
  description: string;
  category: string;
  basePriceCents: number;
  baseCostCents: number;
  elasticity: number;
  attractiveness: number;
  /** Page views per unit sold at base price (traffic model). */
  viewsPerUnit: number;
  /** Share of product views that add to cart. */
  cartAddRate: number;
  inventoryCount: number;
  reorderPoint: number;
  pricingFactors: { demand: number; inventory: number; competition: number; seasonality: number };
  createdAtMs: number;
  periods: PricePeriod[];
}

export interface Catalog {
  products: Product[];
  days: number;
  /** priceCents[j * days + d]: product j's price on history day d. */
  priceCents: Int32Array;
  /** choiceCum[d * P + j]: cumulative choice weight of products 0..j on day d. */
  choiceCum: Float64Array;
  /** Attractiveness share at base prices (traffic is proportional to it, price affects conversion). */
  baseShare: Float64Array;
}

function roundPriceCents(dollars: number): number {
  // Shop-style prices ending in .99 once above $5; cents otherwise.
  if (dollars >= 5) return Math.max(1, Math.floor(dollars)) * 100 - 1;
  return Math.max(1, Math.round(dollars * 100));
}

export function buildCatalog(seed: number, productCount: number, days: number, startMs: number): Catalog {
  const rng = new Rng(seed, 0xca7a1065);
  const products: Product[] = [];
  for (let j = 0; j < productCount; j++) {
    const cat = CATEGORIES[j % CATEGORIES.length]!;
    const id = uuid(rng);
    const [lo, hi] = cat.priceRange;
    const basePriceCents = roundPriceCents(Math.exp(rng.uniform(Math.log(lo), Math.log(hi))));
    const baseCostCents = Math.round(basePriceCents * rng.uniform(0.35, 0.7));
    const elasticity = Math.min(ELASTICITY_CAP, cat.meanElasticity + normal(rng, 0, PRODUCT_ELASTICITY_SD));
    const attractiveness = Math.exp(normal(rng, 0, 0.8));
    const noun = cat.nouns[rng.int(0, cat.nouns.length - 1)]!;
    const adjective = ADJECTIVES[rng.int(0, ADJECTIVES.length - 1)]!;
    const name = `${adjective} ${noun} ${String.fromCharCode(65 + rng.int(0, 25))}${100 + j}`;
    const viewsPerUnit = rng.uniform(25, 40);
    const cartAddRate = rng.uniform(0.08, 0.15);
    const createdAtMs = startMs - Math.floor(rng.uniform(30, 400) * DAY_MS);
    const periods: PricePeriod[] = [{ fromDay: 0, priceCents: basePriceCents }];
    if (!rng.bernoulli(FLAT_PRICE_SHARE) && days >= 10) {
      const changes = rng.int(3, 8);
      const changeDays = new Set<number>();
      while (changeDays.size < Math.min(changes, days - 1)) changeDays.add(rng.int(1, days - 1));
      for (const day of [...changeDays].sort((a, b) => a - b)) {
        let priceCents = basePriceCents;
        const prev = periods[periods.length - 1]!.priceCents;
        // A "change" must change the price; redraw the factor a few times if rounding lands on the old price.
        for (let t = 0; t < 5 && priceCents === prev; t++) {
          const factor = rng.uniform(PRICE_FACTOR_RANGE[0], PRICE_FACTOR_RANGE[1]);
          priceCents = roundPriceCents((basePriceCents / 100) * factor);
          // Keep the realised factor inside the documented range even after the .99 rounding.
          const ratio = priceCents / basePriceCents;
          if (ratio < PRICE_FACTOR_RANGE[0] || ratio > PRICE_FACTOR_RANGE[1]) priceCents = Math.max(1, Math.round(basePriceCents * factor));
        }
        periods.push({ fromDay: day, priceCents });
      }
    }
    products.push({
      index: j,
      id,
      name,
      description: `${adjective} ${noun.toLowerCase()} from our ${cat.name} range.`,
      category: cat.name,
      basePriceCents,
      baseCostCents,
      elasticity,
      attractiveness,
      viewsPerUnit,
      cartAddRate,
      inventoryCount: rng.int(0, 600),
      reorderPoint: rng.int(20, 100),
      pricingFactors: {
        demand: Math.round(rng.uniform(0.8, 1.25) * 100) / 100,
        inventory: Math.round(rng.uniform(0.8, 1.2) * 100) / 100,
        competition: Math.round(rng.uniform(0.85, 1.15) * 100) / 100,
        seasonality: Math.round(rng.uniform(0.9, 1.1) * 100) / 100,
      },
      createdAtMs,
      periods,
    });
  }

  const P = productCount;
  const priceCents = new Int32Array(P * days);
  const choiceCum = new Float64Array(P * days);
  for (const p of products) {
    let k = 0;
    for (let d = 0; d < days; d++) {
      while (k + 1 < p.periods.length && p.periods[k + 1]!.fromDay <= d) k++;
      priceCents[p.index * days + d] = p.periods[k]!.priceCents;
    }
  }
  for (let d = 0; d < days; d++) {
    let acc = 0;
    for (let j = 0; j < P; j++) {
      const p = products[j]!;
      const ratio = priceCents[j * days + d]! / p.basePriceCents;
      acc += p.attractiveness * Math.pow(ratio, p.elasticity);
      choiceCum[d * P + j] = acc;
    }
  }
  const totalAttr = products.reduce((s, p) => s + p.attractiveness, 0);
  const baseShare = new Float64Array(products.map((p) => p.attractiveness / totalAttr));
  return { products, days, priceCents, choiceCum, baseShare };
}

/** Price of product j on day d, in cents. */
export function priceOn(catalog: Catalog, j: number, day: number): number {
  return catalog.priceCents[j * catalog.days + day]!;
}
