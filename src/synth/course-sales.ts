/**
 * Deterministic synthetic history for the `course-sales` profile (seed 000, a Thai course seller whose
 * sales happen in LINE/Facebook chats answered by an AI or by admins), loaded with streaming COPY into
 * a database that already has `test/fixtures/schemas/course-sales.sql`.
 *
 * Generative model (every parameter is reported in the truth's `extra`):
 * - Time: shop activity m(t) = trend × weekly × hourly from calendar.ts, read in Bangkok wall-clock time
 *   (UTC+7): the evening peak of the hourly profile is a Bangkok evening. Admins work 09:00-21:00 Bangkok.
 * - Customers (leads): each is a BG/NBD contact process in operational time (first contact at birth,
 *   births uniform in operational time). A contact is a chat (conversation) or, with WEB_ORDER_SHARE,
 *   a website checkout (an order without a conversation, closed_by NULL).
 * - Chats: the AI answers first with AI_FIRST_PROBABILITY, else an admin does. An AI chat is escalated
 *   to an admin with probability sigmoid(e0 + e1·(score−50)/25) (always for VIP and enterprise
 *   customers). The closer is the AI for AI-only chats and a human for human and escalated (mixed) ones.
 *   The chat converts with probability sigmoid(a_closer + b·(score−50)/25 + c·returning_buyer): the lead
 *   score at the time of the chat predicts conversion.
 * - Orders: one main product chosen ∝ attractiveness × (price/5000)^γ_closer (the AI sells cheaper,
 *   self-serve items; admins sell bundles), enterprise customers buy 5+Poisson(5) seats, a course gets a
 *   book add-on with ADDON_PROBABILITY, a percentage promotion with PROMO_PROBABILITY. Orders of
 *   10,000 THB or more are paid in 3/6/10 monthly installments with INSTALLMENT_PROBABILITY.
 * - Outcomes: cancellations before paying, failed card payments, refunds (partial or full), book
 *   shipping, installment defaults; times that fall after `end` leave the row in its earlier state.
 *
 * Every customer's history is a pure function of (seed, customer index): each table is streamed in its
 * own pass that re-simulates the customers, so memory never holds a table. The first pass counts
 * orders until the target is reached and accumulates the ground truth.
 */
import type pg from 'pg';
import { Calendar, DAY_MS, addMonthsUtc, formatDate, formatTimestamp, isoString } from './calendar.js';
import { copyRows, csvRow, formatCents } from './copy.js';
import type { ProfileGenerateOptions, ProfileGenerator, ProfileTruth } from './profile-generator.js';
import { Rng, beta, exponential, gamma, lognormalWithMean, normal, pickWeighted, poisson, uuid } from './random.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Bangkok is UTC+7 all year (no DST). */
const BANGKOK_OFFSET_MS = 7 * HOUR_MS;

const STREAM_CUSTOMER = 0xc5a1;
const STREAM_CATALOG = 0xc5a2;

/** BG/NBD contact process (per operational day): λ ~ Gamma(r, α), dropout p ~ Beta(a, b) after each repeat contact. */
export const CONTACTS = { r: 0.9, alpha: 40, a: 1, b: 3 } as const;
export const WEB_ORDER_SHARE = 0.1;
export const AI_FIRST_PROBABILITY = 0.8;
/** Escalation: sigmoid(intercept + slope·(score−50)/25); VIP and enterprise customers always. */
export const ESCALATION = { intercept: logit(0.12), slope: 0.8 } as const;
/** Conversion: sigmoid(intercept[closer] + slope·(score−50)/25 + returning·[customer bought before]). */
export const CONVERSION = { intercept: { ai: logit(0.24), human: logit(0.3) }, slope: 1.1, returning: 0.5 } as const;
/** Product choice exponent on price per closer (web = website checkout without a closer). */
export const PRICE_TILT = { ai: -0.35, human: 0.35, web: 0 } as const;
export const ADDON_PROBABILITY = 0.15;
export const PROMO_PROBABILITY = 0.15;
export const ENTERPRISE_SHARE = 0.03;
export const VIP_THRESHOLD_CENTS = 3_000_000;
export const INSTALLMENT = { minTotalCents: 1_000_000, probability: 0.5, counts: [3, 6, 10], countWeights: [0.4, 0.4, 0.2], defaultHazard: 0.04 } as const;
export const STATUS_MODEL = {
  cancelBeforePaying: { ai: 0.07, human: 0.04, web: 0.05 },
  cardFailure: 0.03,
  refund: { ai: 0.04, human: 0.02, web: 0.03 },
  partialRefundShare: 0.3,
} as const;
/** First-response times: the AI any time; admins from the later of the message and the next office opening. */
export const FIRST_RESPONSE = {
  ai: { distribution: 'lognormal', mean_seconds: 12, sigma: 0.5 },
  human: { distribution: 'lognormal', mean_seconds: 360, sigma: 0.9, office_hours_bangkok: [9, 21] as [number, number] },
} as const;
/** Conversations started this long before the end are fully played out (every delay is bounded well below it). */
const SETTLE_MS = 2 * DAY_MS;

type Closer = 'ai' | 'human';
type Lane = Closer | 'web';

function logit(p: number): number {
  return Math.log(p / (1 - p));
}
function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
const clampScore = (s: number): number => Math.max(0, Math.min(100, Math.round(s)));
const bandOf = (s: number): 'cold' | 'warm' | 'hot' => (s >= 80 ? 'hot' : s >= 40 ? 'warm' : 'cold');

// ---------------------------------------------------------------------------------------------
// Catalog, staff, promotions: small fixed tables

interface ProductSpec {
  sku: string;
  name: string;
  type: 'course' | 'book' | 'bundle';
  subject: string;
  priceCents: number;
  costShare: number;
  attractiveness: number;
}

const PRODUCTS: readonly ProductSpec[] = [
  { sku: 'C-STK-101', name: 'หุ้นพื้นฐาน (Stock Trading Basics)', type: 'course', subject: 'investing', priceCents: 299_000, costShare: 0.1, attractiveness: 3 },
  { sku: 'C-TA-201', name: 'Technical Analysis Masterclass', type: 'course', subject: 'investing', priceCents: 790_000, costShare: 0.1, attractiveness: 2 },
  { sku: 'C-CRY-101', name: 'Crypto Investing 101', type: 'course', subject: 'investing', priceCents: 490_000, costShare: 0.1, attractiveness: 1.6 },
  { sku: 'C-FBA-101', name: 'ยิงแอด Facebook สำหรับ SME', type: 'course', subject: 'marketing', priceCents: 590_000, costShare: 0.12, attractiveness: 1.8 },
  { sku: 'C-TTS-101', name: 'TikTok Shop Seller Course', type: 'course', subject: 'marketing', priceCents: 399_000, costShare: 0.12, attractiveness: 1.5 },
  { sku: 'C-XLS-101', name: 'Excel for Business', type: 'course', subject: 'skills', priceCents: 199_000, costShare: 0.08, attractiveness: 1.2 },
  { sku: 'C-RE-301', name: 'ลงทุนอสังหาริมทรัพย์ (Real Estate Investing)', type: 'course', subject: 'investing', priceCents: 1_290_000, costShare: 0.12, attractiveness: 0.9 },
  { sku: 'C-FX-401', name: 'Forex Pro Program', type: 'course', subject: 'investing', priceCents: 1_990_000, costShare: 0.12, attractiveness: 0.7 },
  { sku: 'C-OBA-501', name: 'Online Business Accelerator', type: 'course', subject: 'business', priceCents: 2_490_000, costShare: 0.15, attractiveness: 0.5 },
  { sku: 'C-PFP-101', name: 'วางแผนการเงินส่วนบุคคล (Personal Finance Planning)', type: 'course', subject: 'skills', priceCents: 249_000, costShare: 0.08, attractiveness: 1.3 },
  { sku: 'B-VI-01', name: 'Value Investing Handbook', type: 'book', subject: 'investing', priceCents: 39_000, costShare: 0.45, attractiveness: 1.2 },
  { sku: 'B-CP-01', name: 'Chart Patterns Pocket Guide', type: 'book', subject: 'investing', priceCents: 29_000, costShare: 0.45, attractiveness: 1 },
  { sku: 'B-DM-01', name: 'Digital Marketing Playbook', type: 'book', subject: 'marketing', priceCents: 45_000, costShare: 0.45, attractiveness: 0.8 },
  { sku: 'B-MM-01', name: 'Money Mindset', type: 'book', subject: 'skills', priceCents: 35_000, costShare: 0.45, attractiveness: 0.9 },
  { sku: 'B-TJ-01', name: 'Trading Journal Workbook', type: 'book', subject: 'investing', priceCents: 59_000, costShare: 0.4, attractiveness: 0.6 },
  { sku: 'X-INV-01', name: 'Investor Starter Bundle', type: 'bundle', subject: 'investing', priceCents: 990_000, costShare: 0.12, attractiveness: 1 },
  { sku: 'X-PRO-01', name: 'Pro Trader Bundle', type: 'bundle', subject: 'investing', priceCents: 2_990_000, costShare: 0.12, attractiveness: 0.45 },
  { sku: 'X-ENT-01', name: 'Entrepreneur Bundle', type: 'bundle', subject: 'business', priceCents: 1_990_000, costShare: 0.15, attractiveness: 0.5 },
  { sku: 'X-ALL-01', name: 'All Access Pass (3 ปี)', type: 'bundle', subject: 'all', priceCents: 4_990_000, costShare: 0.15, attractiveness: 0.25 },
];
const BOOKS = PRODUCTS.map((p, i) => (p.type === 'book' ? i : -1)).filter((i) => i >= 0);

interface StaffSpec {
  email: string;
  name: string;
  role: 'super_admin' | 'admin' | 'manager' | 'user';
  status: 'active' | 'inactive' | 'suspended';
  sells: boolean;
}

const STAFF: readonly StaffSpec[] = [
  { email: 'admin@maasai.com', name: 'Super Admin', role: 'super_admin', status: 'active', sells: false },
  { email: 'nok@maasai.com', name: 'Nok Suwan', role: 'admin', status: 'active', sells: true },
  { email: 'ploy@maasai.com', name: 'Ploy Chaiyaporn', role: 'admin', status: 'active', sells: true },
  { email: 'beam@maasai.com', name: 'Beam Rattanakorn', role: 'manager', status: 'active', sells: true },
  { email: 'fah@maasai.com', name: 'Fah Srisuk', role: 'manager', status: 'active', sells: true },
  { email: 'tong@maasai.com', name: 'Tong Wongsa', role: 'user', status: 'active', sells: true },
  { email: 'mint@maasai.com', name: 'Mint Boonmee', role: 'user', status: 'active', sells: true },
  { email: 'golf@maasai.com', name: 'Golf Kittisak', role: 'user', status: 'inactive', sells: true },
  { email: 'support@maasai.com', name: 'Support Desk', role: 'user', status: 'active', sells: false },
  { email: 'audit@maasai.com', name: 'Audit', role: 'user', status: 'suspended', sells: false },
];
const SELLERS = STAFF.map((s, i) => (s.sells ? i : -1)).filter((i) => i >= 0);
const PERMISSIONS: Record<StaffSpec['role'], string[]> = {
  super_admin: ['users.manage', 'settings.manage', 'customers.read', 'customers.write', 'orders.read', 'orders.write', 'reports.read', 'ai.configure'],
  admin: ['customers.read', 'customers.write', 'orders.read', 'orders.write', 'reports.read', 'ai.configure'],
  manager: ['customers.read', 'customers.write', 'orders.read', 'orders.write', 'reports.read'],
  user: ['customers.read', 'orders.read', 'orders.write'],
};

interface PromoSpec {
  code: string;
  name: string;
  percent: number;
}
const PROMOS: readonly PromoSpec[] = [
  { code: 'WELCOME10', name: 'ส่วนลดลูกค้าใหม่ 10%', percent: 10 },
  { code: 'LINE15', name: 'LINE OA exclusive 15%', percent: 15 },
  { code: 'PAYDAY5', name: 'Payday 5%', percent: 5 },
  { code: 'FLASH20', name: 'Flash sale 20%', percent: 20 },
];
const MEAN_PROMO_PERCENT = PROMOS.reduce((s, p) => s + p.percent, 0) / PROMOS.length;

/** Fixed ids for the small tables: from a dedicated stream, so they never depend on the history. */
interface Fixed {
  productIds: string[];
  staffIds: string[];
  promoIds: string[];
}
function fixedIds(seed: number): Fixed {
  const rng = new Rng(seed, STREAM_CATALOG);
  return {
    productIds: PRODUCTS.map(() => uuid(rng)),
    staffIds: STAFF.map(() => uuid(rng)),
    promoIds: PROMOS.map(() => uuid(rng)),
  };
}

/** Product choice probabilities per lane: attractiveness × (price / 5000 THB)^γ. */
function choiceWeights(lane: Lane): number[] {
  const w = PRODUCTS.map((p) => p.attractiveness * Math.pow(p.priceCents / 500_000, PRICE_TILT[lane]));
  const total = w.reduce((s, x) => s + x, 0);
  return w.map((x) => x / total);
}
const CHOICE: Record<Lane, number[]> = { ai: choiceWeights('ai'), human: choiceWeights('human'), web: choiceWeights('web') };
const MEAN_BOOK_CENTS = BOOKS.reduce((s, j) => s + PRODUCTS[j]!.priceCents, 0) / BOOKS.length;

/** E[order total | lane, enterprise] in cents under the order model (promotion rounding aside). */
function expectedTotalCents(lane: Lane, enterprise: boolean): number {
  const pi = CHOICE[lane];
  const qty = enterprise ? 10 : 1;
  let main = 0;
  let courseShare = 0;
  for (let j = 0; j < PRODUCTS.length; j++) {
    main += pi[j]! * PRODUCTS[j]!.priceCents;
    if (PRODUCTS[j]!.type === 'course') courseShare += pi[j]!;
  }
  const subtotal = qty * main + ADDON_PROBABILITY * courseShare * MEAN_BOOK_CENTS;
  return subtotal * (1 - (PROMO_PROBABILITY * MEAN_PROMO_PERCENT) / 100);
}

// ---------------------------------------------------------------------------------------------
// Time helpers (Bangkok wall clock)

function bangkokHour(ms: number): number {
  return Math.floor((((ms + BANGKOK_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS);
}

/** The first instant at or after ms inside office hours (09:00-21:00 Bangkok). */
function nextOfficeOpen(ms: number): number {
  const [open, close] = FIRST_RESPONSE.human.office_hours_bangkok;
  const h = bangkokHour(ms);
  if (h >= open && h < close) return ms;
  const localDayStart = Math.floor((ms + BANGKOK_OFFSET_MS) / DAY_MS) * DAY_MS - BANGKOK_OFFSET_MS;
  return h < open ? localDayStart + open * HOUR_MS : localDayStart + DAY_MS + open * HOUR_MS;
}

const ts = (ms: number | null): string | null => (ms === null ? null : formatTimestamp(ms) + '+00');

// ---------------------------------------------------------------------------------------------
// One customer's history

type Sender = 'customer' | 'ai' | 'admin';
interface Msg {
  id: string;
  ms: number;
  sender: Sender;
  senderId: string | null;
  text: string;
  type: 'text' | 'image' | 'sticker';
}
interface AiTurn {
  id: string;
  messageId: string;
  ms: number;
  intent: string;
  confidence: number;
  escalated: boolean;
  reason: string | null;
  tokens: number;
  latencyMs: number;
}
interface Conv {
  id: string;
  startMs: number;
  channel: string;
  handled: 'ai' | 'human' | 'mixed' | null;
  closer: Closer;
  escalated: boolean;
  assignedTo: number;
  messages: Msg[];
  ai: AiTurn[];
  /** Conversion probability the outcome was drawn with. */
  p: number;
  converted: boolean;
  firstResponseMs: number | null;
  scoreAtStart: number;
  first: boolean;
  /** The AI answered first (whether or not it later escalated). */
  aiFirst: boolean;
}
interface Line {
  id: string;
  product: number;
  qty: number;
  unitCents: number;
}
interface Installment {
  id: string;
  n: number;
  amountCents: number;
  dueMs: number;
  paidMs: number | null;
  status: 'pending' | 'paid' | 'overdue' | 'failed' | 'refunded' | 'cancelled';
  updatedMs: number;
  reference: string | null;
}
interface Plan {
  id: string;
  count: number;
  installmentCents: number;
  startMs: number;
  status: 'active' | 'completed' | 'defaulted' | 'cancelled';
  updatedMs: number;
  payments: Installment[];
}
interface Order {
  id: string;
  number: string;
  conv: Conv | null;
  lane: Lane;
  closerUser: number;
  createdMs: number;
  lines: Line[];
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
  promo: number;
  method: 'full' | 'installment';
  channel: string;
  status: string;
  paymentStatus: string;
  paidMs: number | null;
  cancelledMs: number | null;
  refundedMs: number | null;
  refundCents: number | null;
  updatedMs: number;
  plan: Plan | null;
  enterprise: boolean;
  /** Net money received (cents) as of the end. */
  netCents: number;
  /** Course access rows (course and bundle lines of orders whose first payment arrived). */
  access: { id: string; product: number; progress: number; completedMs: number | null; createdMs: number }[];
  followUps: { id: string; type: string; scheduledMs: number; status: string; sentMs: number | null }[];
  ticket: { id: string; number: string; ms: number; priority: string; status: string; category: string; subject: string; resolvedMs: number | null; messages: Msg[] } | null;
}
interface ScoreChange {
  id: string;
  ms: number;
  old: number | null;
  score: number;
  reason: string;
  by: number;
}
interface CustomerSim {
  index: number;
  id: string;
  birthMs: number;
  email: string | null;
  phone: string;
  lineId: string | null;
  facebookId: string | null;
  name: string;
  source: string;
  enterprise: boolean;
  company: string | null;
  convs: Conv[];
  orders: Order[];
  scores: ScoreChange[];
  score: number;
  netCents: number;
  vip: boolean;
  assignedTo: number;
  lastContactMs: number;
  convertedMs: number | null;
  updatedMs: number;
}

const CHANNELS = ['line', 'facebook', 'instagram', 'website'] as const;
const CHANNEL_WEIGHTS = [0.6, 0.25, 0.05, 0.1];
const FIRST_NAMES = ['Somchai', 'Suda', 'Anan', 'Ploy', 'Kittipong', 'Nattaya', 'Wichai', 'Pim', 'Arthit', 'Kanya', 'Preecha', 'Malee'];
const LAST_NAMES = ['Saetang', 'Wongsawat', 'Chaiyasit', 'Srisombat', 'Rattanapong', 'Boonyarat', 'Thongchai', 'Kaewmanee'];
const CUSTOMER_TEXT = ['สนใจคอร์สนี้ครับ', 'ราคาเท่าไหร่คะ', 'ผ่อนได้ไหมครับ', 'เรียนออนไลน์ได้ตลอดไหมคะ', 'มีโปรไหมครับ', 'โอนแล้วค่ะ', 'ขอรายละเอียดเพิ่มเติมครับ'];
const AI_TEXT = ['สวัสดีค่ะ ยินดีให้ข้อมูลค่ะ', 'คอร์สนี้เรียนได้ 3 ปีค่ะ', 'ผ่อน 0% ได้สูงสุด 10 เดือนค่ะ', 'ตอนนี้มีโปรลด 10% ค่ะ', 'ส่งลิงก์ชำระเงินให้นะคะ'];
const ADMIN_TEXT = ['สวัสดีครับ แอดมินรับเรื่องครับ', 'เดี๋ยวแอดมินสรุปแพ็กเกจให้นะครับ', 'ยืนยันการชำระเงินเรียบร้อยครับ', 'แนะนำ Bundle คุ้มกว่าครับ'];
const HANDOFF_TEXT = 'ขอส่งต่อให้แอดมินดูแลนะคะ';
const INTENTS = ['product_inquiry', 'price_inquiry', 'installment_inquiry', 'promotion_inquiry', 'payment_confirmation', 'technical_issue'];
const ESCALATION_REASONS = ['customer_requested_human', 'low_confidence', 'high_value_lead', 'vip_customer', 'complex_question'];
const TICKET_CATEGORIES = ['access', 'payment', 'content', 'certificate'];
const TICKET_SUBJECTS: Record<string, string> = { access: 'เข้าคอร์สไม่ได้', payment: 'ชำระเงินแล้วยังไม่ได้รับสิทธิ์', content: 'วิดีโอเล่นไม่ได้', certificate: 'ขอใบประกาศนียบัตร' };
const PRIORITIES = ['low', 'medium', 'high', 'critical'];
const PRIORITY_WEIGHTS = [0.3, 0.4, 0.2, 0.1];

/** Operational context shared by every pass. */
interface World {
  seed: number;
  cal: Calendar;
  startMs: number;
  endMs: number;
  fixed: Fixed;
}

/** Calendar time of an operational time: the calendar runs on Bangkok wall-clock time. */
function shopTime(w: World, tau: number): number {
  return w.cal.toCalendarMs(tau) - BANGKOK_OFFSET_MS;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng.next() * xs.length)]!;
}

function hex(rng: Rng, n: number): string {
  let s = '';
  while (s.length < n) s += rng.nextU32().toString(16).padStart(8, '0');
  return s.slice(0, n);
}

/** Customer i's whole history: a pure function of (seed, i). */
function simulateCustomer(w: World, i: number): CustomerSim {
  const rng = new Rng(w.seed, STREAM_CUSTOMER, i);
  const id = uuid(rng);
  const z = normal(rng);
  const enterprise = rng.bernoulli(ENTERPRISE_SHARE);
  const score0 = clampScore(50 + 20 * z + normal(rng, 0, 8) + (enterprise ? 10 : 0));
  const channelPref = pickWeighted(CHANNEL_WEIGHTS, rng.next());
  const lambda = gamma(rng, CONTACTS.r, CONTACTS.alpha);
  const pDrop = beta(rng, CONTACTS.a, CONTACTS.b);
  const total = w.cal.totalOperational;
  const birthTau = rng.next() * total;
  const name = `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
  const hasEmail = rng.bernoulli(0.6);
  const c: CustomerSim = {
    index: i, id, birthMs: shopTime(w, birthTau), name,
    email: hasEmail ? `c${i}@example.test` : null,
    phone: '08' + String(10_000_000 + Math.floor(rng.next() * 89_999_999)),
    lineId: CHANNELS[channelPref] === 'line' || rng.bernoulli(0.3) ? 'U' + hex(rng, 32) : null,
    facebookId: CHANNELS[channelPref] === 'facebook' ? String(1e14 + Math.floor(rng.next() * 8e14)) : null,
    source: CHANNELS[channelPref]!, enterprise, company: enterprise ? `บริษัท ${pick(rng, LAST_NAMES)} จำกัด` : null,
    convs: [], orders: [], scores: [], score: score0, netCents: 0, vip: false, assignedTo: -1,
    lastContactMs: 0, convertedMs: null, updatedMs: 0,
  };
  c.scores.push({ id: uuid(rng), ms: c.birthMs, old: null, score: score0, reason: 'initial_assessment', by: -1 });
  let tau = birthTau;
  for (let k = 0; ; k++) {
    const ms = shopTime(w, tau);
    contact(w, rng, c, ms, k, channelPref);
    tau += exponential(rng, lambda);
    if (tau >= total) break;
    if (k > 0 && rng.bernoulli(pDrop)) break;
  }
  finishCustomer(w, c);
  return c;
}

function contact(w: World, rng: Rng, c: CustomerSim, ms: number, k: number, channelPref: number): void {
  c.lastContactMs = Math.max(c.lastContactMs, ms);
  if (rng.bernoulli(WEB_ORDER_SHARE)) {
    makeOrder(w, rng, c, null, 'web', ms + rng.uniform(1, 10) * MINUTE_MS, k);
    scoreChange(rng, c, ms, Math.min(100, c.score + 10), 'purchase', -1);
    return;
  }
  const channel = CHANNELS[rng.bernoulli(0.85) ? channelPref : pickWeighted(CHANNEL_WEIGHTS, rng.next())]!;
  const conv = chat(w, rng, c, ms, channel);
  c.convs.push(conv);
  if (conv.converted) {
    const last = conv.messages[conv.messages.length - 1]!.ms;
    makeOrder(w, rng, c, conv, conv.closer, last + rng.uniform(2, 20) * MINUTE_MS, k);
    scoreChange(rng, c, last, Math.min(100, c.score + 15), 'purchase', conv.closer === 'human' ? conv.assignedTo : -1);
  } else if (conv.firstResponseMs !== null) {
    const drift = clampScore(c.score + normal(rng, -1, 6));
    if (drift !== c.score) scoreChange(rng, c, conv.messages[conv.messages.length - 1]!.ms, drift, 'ai_assessment', -1);
  }
}

function scoreChange(rng: Rng, c: CustomerSim, ms: number, score: number, reason: string, by: number): void {
  const id = uuid(rng);
  if (score === c.score) return;
  c.scores.push({ id, ms, old: c.score, score, reason, by });
  c.score = score;
}

/** A chat: who answers, when, whether it escalates and converts. Messages after the end are cut. */
function chat(w: World, rng: Rng, c: CustomerSim, startMs: number, channel: string): Conv {
  const id = uuid(rng);
  const score = c.score;
  const returning = c.orders.some((o) => o.paidMs !== null);
  const aiFirst = rng.bernoulli(AI_FIRST_PROBABILITY);
  const forced = c.enterprise || c.vip;
  const escalated = aiFirst && (forced || rng.bernoulli(sigmoid(ESCALATION.intercept + (ESCALATION.slope * (score - 50)) / 25)));
  const closer: Closer = aiFirst && !escalated ? 'ai' : 'human';
  const p = sigmoid(CONVERSION.intercept[closer] + (CONVERSION.slope * (score - 50)) / 25 + (returning ? CONVERSION.returning : 0));
  const converted = rng.bernoulli(p);
  const admin = SELLERS[Math.floor(rng.next() * SELLERS.length)]!;
  const adminId = w.fixed.staffIds[admin]!;
  const msgs: Msg[] = [];
  const ai: AiTurn[] = [];
  const say = (ms: number, sender: Sender, text: string): Msg => {
    const m: Msg = { id: uuid(rng), ms, sender, senderId: sender === 'admin' ? adminId : null, text, type: rng.bernoulli(0.05) ? 'sticker' : 'text' };
    msgs.push(m);
    return m;
  };
  const aiSay = (ms: number, text: string, escalate: boolean): void => {
    const m = say(ms, 'ai', text);
    const confidence = escalate ? rng.uniform(0.35, 0.7) : rng.uniform(0.72, 0.99);
    ai.push({
      id: uuid(rng), messageId: m.id, ms, intent: pick(rng, INTENTS), confidence, escalated: escalate,
      reason: escalate ? (forced ? (c.enterprise ? 'high_value_lead' : 'vip_customer') : pick(rng, ESCALATION_REASONS)) : null,
      tokens: 80 + Math.floor(rng.next() * 400), latencyMs: 0,
    });
  };
  const aiDelay = () => Math.min(lognormalWithMean(rng, FIRST_RESPONSE.ai.mean_seconds, FIRST_RESPONSE.ai.sigma), 120) * 1000;
  const humanDelay = () => Math.min(lognormalWithMean(rng, FIRST_RESPONSE.human.mean_seconds, FIRST_RESPONSE.human.sigma), 6 * 3600) * 1000;
  const chatGap = () => Math.min(lognormalWithMean(rng, 180, 0.8), 1800) * 1000;
  say(startMs, 'customer', pick(rng, CUSTOMER_TEXT));
  let t: number;
  let responder: 'ai' | 'admin';
  if (aiFirst) {
    const d = aiDelay();
    t = startMs + d;
    aiSay(t, pick(rng, AI_TEXT), false);
    ai[ai.length - 1]!.latencyMs = Math.round(d);
    responder = 'ai';
    if (escalated) {
      t += rng.uniform(30, 180) * 1000;
      aiSay(t, HANDOFF_TEXT, true);
      t = nextOfficeOpen(t) + humanDelay();
      say(t, 'admin', pick(rng, ADMIN_TEXT));
      responder = 'admin';
    }
  } else {
    t = nextOfficeOpen(startMs) + humanDelay();
    say(t, 'admin', pick(rng, ADMIN_TEXT));
    responder = 'admin';
  }
  const rounds = Math.min(1 + poisson(rng, 1.5), 6);
  for (let r = 0; r < rounds; r++) {
    t += chatGap();
    say(t, 'customer', pick(rng, CUSTOMER_TEXT));
    if (responder === 'ai') {
      const d = aiDelay();
      t += d;
      aiSay(t, pick(rng, AI_TEXT), false);
      ai[ai.length - 1]!.latencyMs = Math.round(d);
    } else {
      t += Math.min(lognormalWithMean(rng, 240, 0.8), 7200) * 1000;
      say(t, 'admin', pick(rng, ADMIN_TEXT));
    }
  }
  const firstReply = msgs[1]!.ms;
  const kept = msgs.filter((m) => m.ms < w.endMs);
  const keptAi = ai.filter((a) => a.ms < w.endMs);
  const aiReplied = kept.some((m) => m.sender === 'ai');
  const adminReplied = kept.some((m) => m.sender === 'admin');
  const complete = kept.length === msgs.length;
  return {
    id, startMs, channel, closer, escalated: keptAi.some((a) => a.escalated), assignedTo: closer === 'human' ? admin : -1,
    handled: aiReplied && adminReplied ? 'mixed' : aiReplied ? 'ai' : adminReplied ? 'human' : null,
    messages: kept, ai: keptAi, p,
    // An order placed after the end has not happened yet.
    converted: converted && complete && msgs[msgs.length - 1]!.ms + 20 * MINUTE_MS < w.endMs,
    firstResponseMs: firstReply < w.endMs ? firstReply - startMs : null,
    scoreAtStart: score, first: c.convs.length === 0, aiFirst,
  };
}

/** An order with its lines, promotion, payment method and fate. */
function makeOrder(w: World, rng: Rng, c: CustomerSim, conv: Conv | null, lane: Lane, createdMs: number, k: number): void {
  if (createdMs >= w.endMs) return;
  const id = uuid(rng);
  const lines: Line[] = [];
  const main = pickWeighted(CHOICE[lane], rng.next());
  const qty = c.enterprise ? 5 + poisson(rng, 5) : 1;
  lines.push({ id: uuid(rng), product: main, qty, unitCents: PRODUCTS[main]!.priceCents });
  if (PRODUCTS[main]!.type === 'course' && rng.bernoulli(ADDON_PROBABILITY)) {
    const book = BOOKS[Math.floor(rng.next() * BOOKS.length)]!;
    lines.push({ id: uuid(rng), product: book, qty: 1, unitCents: PRODUCTS[book]!.priceCents });
  }
  const subtotal = lines.reduce((s, l) => s + l.qty * l.unitCents, 0);
  const promo = rng.bernoulli(PROMO_PROBABILITY) ? Math.floor(rng.next() * PROMOS.length) : -1;
  // Discounts are whole baht.
  const discount = promo < 0 ? 0 : Math.round((subtotal * PROMOS[promo]!.percent) / 100 / 100) * 100;
  const total = subtotal - discount;
  const o: Order = {
    id, number: `MA-${formatDate(createdMs).replaceAll('-', '')}-${c.index}-${k}`, conv, lane,
    closerUser: conv && conv.closer === 'human' ? conv.assignedTo : -1, createdMs, lines,
    subtotalCents: subtotal, discountCents: discount, totalCents: total, promo,
    method: total >= INSTALLMENT.minTotalCents && !c.enterprise && rng.bernoulli(INSTALLMENT.probability) ? 'installment' : 'full',
    channel: pickWeighted([0.5, 0.3, 0.2], rng.next()) === 0 ? 'promptpay' : rng.bernoulli(0.6) ? 'bank_transfer' : 'credit_card',
    status: 'pending', paymentStatus: 'unpaid', paidMs: null, cancelledMs: null, refundedMs: null, refundCents: null,
    updatedMs: createdMs, plan: null, enterprise: c.enterprise, netCents: 0, access: [], followUps: [], ticket: null,
  };
  settle(w, rng, o);
  afterSale(w, rng, c, o);
  c.orders.push(o);
  if (o.paidMs !== null) {
    c.netCents += o.netCents;
    c.convertedMs ??= o.paidMs;
    if (c.assignedTo < 0 && o.closerUser >= 0) c.assignedTo = o.closerUser;
    if (c.netCents >= VIP_THRESHOLD_CENTS) c.vip = true;
  }
}

/** The order's fate: cancelled before paying, failed, paid (in full or first installment), refunded. */
function settle(w: World, rng: Rng, o: Order): void {
  const end = w.endMs;
  const u = rng.next();
  const pCancel = STATUS_MODEL.cancelBeforePaying[o.lane];
  const payLag = Math.min(lognormalWithMean(rng, 40 * 60, 1), 2 * 86_400) * 1000;
  const refundDraw = rng.next();
  const refundLag = rng.uniform(1, 7) * DAY_MS;
  const partial = rng.bernoulli(STATUS_MODEL.partialRefundShare);
  const shipLag = rng.uniform(1, 3) * DAY_MS;
  if (u < pCancel) {
    const at = o.createdMs + rng.uniform(1, 3) * DAY_MS;
    if (at < end) Object.assign(o, { status: 'cancelled', cancelledMs: at, updatedMs: at });
    return;
  }
  if (o.method === 'full' && u < pCancel + STATUS_MODEL.cardFailure) {
    const at = o.createdMs + rng.uniform(1, 10) * MINUTE_MS;
    if (at < end) Object.assign(o, { status: 'cancelled', paymentStatus: 'failed', cancelledMs: at, updatedMs: at });
    else Object.assign(o, { paymentStatus: 'pending' });
    return;
  }
  const paidMs = o.createdMs + payLag;
  if (paidMs >= end) {
    // Slip uploaded (full) or first installment not yet confirmed: still pending.
    if (o.method === 'full') o.paymentStatus = 'pending';
    return;
  }
  o.paidMs = paidMs;
  o.updatedMs = paidMs;
  const refundAt = paidMs + refundLag;
  const refunded = refundDraw < STATUS_MODEL.refund[o.lane] && refundAt < end;
  if (o.method === 'installment') {
    installments(w, rng, o, paidMs, refunded ? refundAt : null);
    return;
  }
  o.netCents = o.totalCents;
  o.paymentStatus = 'paid';
  if (refunded) {
    const cents = partial ? Math.round(o.totalCents / 200) * 100 : o.totalCents;
    Object.assign(o, { status: 'refunded', paymentStatus: partial ? 'partially_refunded' : 'refunded', refundedMs: refundAt, refundCents: cents, updatedMs: refundAt });
    o.netCents = o.totalCents - cents;
    return;
  }
  const hasBook = o.lines.some((l) => PRODUCTS[l.product]!.type === 'book');
  const shipped = paidMs + shipLag;
  if (!hasBook) o.status = 'completed';
  else if (shipped < end) Object.assign(o, { status: 'completed', updatedMs: shipped });
  else o.status = 'paid';
}

/** The installment plan of an order whose first installment was paid at paidMs. */
function installments(w: World, rng: Rng, o: Order, paidMs: number, refundAt: number | null): void {
  const end = w.endMs;
  const count = INSTALLMENT.counts[pickWeighted(INSTALLMENT.countWeights, rng.next())]!;
  const each = Math.floor(o.totalCents / count);
  const dayStart = Math.floor(paidMs / DAY_MS) * DAY_MS;
  const plan: Plan = { id: uuid(rng), count, installmentCents: each, startMs: dayStart, status: 'active', updatedMs: paidMs, payments: [] };
  let stoppedAt = -1;
  let prevPaid = paidMs;
  for (let n = 1; n <= count; n++) {
    const amount = n === count ? o.totalCents - each * (count - 1) : each;
    const dueMs = addMonthsUtc(dayStart, n - 1);
    const inst: Installment = { id: uuid(rng), n, amountCents: amount, dueMs, paidMs: null, status: 'pending', updatedMs: paidMs, reference: null };
    const lag = Math.max(-5, Math.min(10, normal(rng, 0, 1.5))) * DAY_MS;
    const defaults = n > 1 && rng.bernoulli(INSTALLMENT.defaultHazard);
    const reference = 'PP' + hex(rng, 12).toUpperCase();
    plan.payments.push(inst);
    if (n === 1) {
      Object.assign(inst, { paidMs, status: 'paid', reference });
      continue;
    }
    if (refundAt !== null) {
      Object.assign(inst, { status: 'cancelled', updatedMs: refundAt });
      continue;
    }
    if (stoppedAt < 0 && defaults) stoppedAt = n;
    if (stoppedAt > 0) {
      const declared = plan.payments[stoppedAt - 1]!.dueMs + 30 * DAY_MS;
      if (declared < end) Object.assign(inst, n === stoppedAt ? { status: 'failed', updatedMs: declared } : { status: 'cancelled', updatedMs: declared });
      else if (dueMs < end) Object.assign(inst, { status: 'overdue', updatedMs: dueMs });
      continue;
    }
    const at = Math.max(prevPaid + MINUTE_MS, dueMs + lag);
    if (at < end) {
      Object.assign(inst, { paidMs: at, status: 'paid', updatedMs: at, reference });
      prevPaid = at;
    } else if (dueMs < end) {
      Object.assign(inst, { status: 'overdue', updatedMs: dueMs });
    }
  }
  o.plan = plan;
  const received = plan.payments.filter((p) => p.status === 'paid').reduce((s, p) => s + p.amountCents, 0);
  o.netCents = received;
  const last = Math.max(...plan.payments.map((p) => p.updatedMs));
  plan.updatedMs = last;
  o.updatedMs = last;
  if (refundAt !== null) {
    plan.payments[0]!.status = 'refunded';
    plan.payments[0]!.updatedMs = refundAt;
    Object.assign(plan, { status: 'cancelled', updatedMs: refundAt });
    Object.assign(o, { status: 'refunded', paymentStatus: 'refunded', refundedMs: refundAt, refundCents: plan.payments[0]!.amountCents, updatedMs: refundAt });
    o.netCents = 0;
  } else if (plan.payments.some((p) => p.status === 'failed')) {
    plan.status = 'defaulted';
    Object.assign(o, { status: 'cancelled', paymentStatus: 'defaulted', cancelledMs: last });
  } else if (plan.payments.every((p) => p.status === 'paid')) {
    plan.status = 'completed';
    Object.assign(o, { status: 'completed', paymentStatus: 'paid' });
  } else {
    Object.assign(o, { status: 'installment', paymentStatus: 'partially_paid' });
  }
}

/** Course access, follow-ups and the occasional support ticket after a paid order. */
function afterSale(w: World, rng: Rng, c: CustomerSim, o: Order): void {
  if (o.paidMs === null) return;
  const end = w.endMs;
  const paid = o.paidMs;
  const revoked = o.status === 'refunded' || o.plan?.status === 'defaulted';
  for (const l of o.lines) {
    if (PRODUCTS[l.product]!.type === 'book') continue;
    const age = (end - paid) / DAY_MS;
    const progress = revoked ? Math.floor(rng.next() * 20) : Math.min(100, Math.floor(rng.next() * Math.min(age * 3, 130)));
    const doneAt = paid + rng.uniform(20, 120) * DAY_MS;
    const completedMs = progress >= 100 && doneAt < end ? doneAt : null;
    o.access.push({ id: uuid(rng), product: l.product, progress: completedMs === null ? Math.min(progress, 99) : 100, completedMs, createdMs: paid });
  }
  const plan: [string, number][] = [['day_7', 7], ['feedback', 30]];
  if (!o.lines.some((l) => PRODUCTS[l.product]!.type === 'bundle') && rng.bernoulli(0.5)) plan.push(['upsell', 14]);
  for (const a of o.access) if (a.completedMs !== null) plan.push(['course_completion', (a.completedMs - paid) / DAY_MS + 1]);
  for (const [type, days] of plan) {
    const scheduledMs = paid + days * DAY_MS;
    const fid = uuid(rng);
    const failed = rng.bernoulli(0.02);
    const sentMs = scheduledMs + rng.uniform(1, 15) * MINUTE_MS;
    const cancelled = o.refundedMs !== null && o.refundedMs < scheduledMs;
    const status = cancelled ? 'cancelled' : sentMs >= end ? 'pending' : failed ? 'failed' : 'sent';
    o.followUps.push({ id: fid, type, scheduledMs, status, sentMs: status === 'sent' ? sentMs : null });
  }
  if (rng.bernoulli(0.06)) {
    const ms = paid + rng.uniform(0.5, 20) * DAY_MS;
    const tid = uuid(rng);
    const category = pick(rng, TICKET_CATEGORIES);
    const priority = PRIORITIES[pickWeighted(PRIORITY_WEIGHTS, rng.next())]!;
    const resolveLag = rng.uniform(0.1, 4) * DAY_MS;
    const msgs: Msg[] = [
      { id: uuid(rng), ms, sender: 'customer', senderId: null, text: TICKET_SUBJECTS[category]!, type: 'text' },
      { id: uuid(rng), ms: ms + resolveLag / 2, sender: 'admin', senderId: w.fixed.staffIds[8]!, text: 'กำลังตรวจสอบให้ครับ', type: 'text' },
    ];
    if (ms < end) {
      const resolvedMs = ms + resolveLag < end ? ms + resolveLag : null;
      o.ticket = {
        id: tid, number: `TCK-${c.index}-${c.orders.length}`, ms, priority, category, subject: TICKET_SUBJECTS[category]!,
        status: resolvedMs === null ? (msgs[1]!.ms < end ? 'in_progress' : 'open') : rng.bernoulli(0.7) ? 'closed' : 'resolved',
        resolvedMs, messages: msgs.filter((m) => m.ms < end),
      };
    }
  }
}

function finishCustomer(w: World, c: CustomerSim): void {
  let updated = c.birthMs;
  for (const s of c.scores) updated = Math.max(updated, s.ms);
  for (const o of c.orders) updated = Math.max(updated, o.updatedMs);
  for (const v of c.convs) if (v.messages.length) updated = Math.max(updated, v.messages[v.messages.length - 1]!.ms);
  c.updatedMs = Math.min(updated, w.endMs - 1);
}

function customerType(c: CustomerSim): string {
  return c.enterprise ? 'enterprise' : c.vip ? 'vip' : 'regular';
}
function leadStatus(c: CustomerSim): string {
  return c.convertedMs !== null ? 'converted' : bandOf(c.score);
}

// ---------------------------------------------------------------------------------------------
// Rows per table

function* customerRows(w: World, n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    const c = simulateCustomer(w, i);
    const orders = c.orders.filter((o) => o.paidMs !== null).length;
    yield csvRow([
      c.id, c.name, c.email, c.phone, c.lineId, c.facebookId, 'TH', c.source, c.score, leadStatus(c), customerType(c), c.company,
      formatCents(c.netCents), orders, c.assignedTo >= 0 ? w.fixed.staffIds[c.assignedTo] : null,
      c.enterprise ? '{b2b}' : null, null, ts(c.lastContactMs), ts(c.convertedMs), ts(c.birthMs), ts(c.updatedMs),
    ]);
  }
}
const CUSTOMER_COLUMNS = ['id', 'full_name', 'email', 'phone', 'line_user_id', 'facebook_id', 'country', 'source', 'lead_score', 'lead_status', 'customer_type', 'company_name',
  'total_spent', 'total_orders', 'assigned_to', 'tags', 'notes', 'last_contact_at', 'converted_at', 'created_at', 'updated_at'];

function* perCustomer(w: World, n: number, rows: (c: CustomerSim) => string): Generator<string> {
  for (let i = 0; i < n; i++) {
    const chunk = rows(simulateCustomer(w, i));
    if (chunk) yield chunk;
  }
}

function scoreRows(w: World, c: CustomerSim): string {
  return c.scores.map((s) => csvRow([s.id, c.id, s.old, s.score, s.reason, s.by >= 0 ? w.fixed.staffIds[s.by] : null, ts(s.ms)])).join('');
}

function conversationRows(w: World, c: CustomerSim): string {
  let out = '';
  for (const v of c.convs) {
    const last = v.messages[v.messages.length - 1]!.ms;
    const waiting = v.escalated && !v.messages.some((m) => m.sender === 'admin');
    const closed = !waiting && last < w.endMs - DAY_MS;
    out += csvRow([v.id, c.id, v.channel, waiting ? 'waiting_admin' : closed ? 'closed' : 'active', v.handled === 'ai',
      v.assignedTo >= 0 ? w.fixed.staffIds[v.assignedTo] : null, ts(last), closed ? ts(last + HOUR_MS) : null, ts(v.startMs), ts(closed ? last + HOUR_MS : last)]);
  }
  return out;
}

function messageRows(c: CustomerSim): string {
  let out = '';
  for (const v of c.convs) for (const m of v.messages) out += csvRow([m.id, v.id, m.sender, m.senderId, m.text, m.type, true, ts(m.ms)]);
  return out;
}

function aiRows(c: CustomerSim): string {
  let out = '';
  for (const v of c.convs) {
    for (const a of v.ai) {
      out += csvRow([a.id, c.id, v.id, a.messageId, a.intent, a.confidence.toFixed(2), null, a.escalated, a.reason, a.tokens,
        (a.tokens * 0.000002).toFixed(6), 'gpt-4o-mini', a.latencyMs || null, ts(a.ms)]);
    }
  }
  return out;
}

function orderRows(w: World, c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    out += csvRow([o.id, o.number, c.id, o.conv?.id ?? null, o.status, o.method, o.paymentStatus, o.channel,
      formatCents(o.subtotalCents), formatCents(o.discountCents), formatCents(o.totalCents), o.refundCents === null ? null : formatCents(o.refundCents),
      o.promo >= 0 ? w.fixed.promoIds[o.promo] : null, o.lane === 'web' ? null : o.lane === 'ai' ? 'ai' : 'admin',
      o.closerUser >= 0 ? w.fixed.staffIds[o.closerUser] : null, ts(o.paidMs), ts(o.cancelledMs), ts(o.refundedMs), null, ts(o.createdMs), ts(o.updatedMs)]);
  }
  return out;
}

function itemRows(w: World, c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    for (const l of o.lines) out += csvRow([l.id, o.id, w.fixed.productIds[l.product], l.qty, formatCents(l.unitCents), formatCents(l.qty * l.unitCents), ts(o.createdMs)]);
  }
  return out;
}

function planRows(c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    const p = o.plan;
    if (p) out += csvRow([p.id, o.id, c.id, formatCents(o.totalCents), p.count, formatCents(p.installmentCents), '0.00', formatDate(p.startMs), p.status, ts(o.paidMs), ts(p.updatedMs)]);
  }
  return out;
}

function installmentRows(c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    for (const i of o.plan?.payments ?? []) {
      out += csvRow([i.id, o.plan!.id, i.n, formatCents(i.amountCents), formatDate(i.dueMs), ts(i.paidMs), i.status, i.reference, ts(o.paidMs), ts(i.updatedMs)]);
    }
  }
  return out;
}

function purchaseRows(w: World, c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    const revoked = o.status === 'refunded' || o.plan?.status === 'defaulted';
    for (const a of o.access) {
      const expires = addMonthsUtc(a.createdMs, 36);
      const changed = Math.max(a.createdMs, a.completedMs ?? 0, revoked ? o.updatedMs : 0);
      out += csvRow([a.id, c.id, w.fixed.productIds[a.product], o.id, ts(a.createdMs), ts(expires), !revoked && expires > w.endMs, a.progress, ts(a.completedMs), ts(a.createdMs), ts(changed)]);
    }
  }
  return out;
}

function followUpRows(c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    for (const f of o.followUps) {
      out += csvRow([f.id, c.id, o.id, f.type, ts(f.scheduledMs), ts(f.sentMs), f.status, 'line', null, ts(o.paidMs), ts(f.sentMs ?? o.paidMs)]);
    }
  }
  return out;
}

function ticketRows(w: World, c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) {
    const t = o.ticket;
    if (!t) continue;
    out += csvRow([t.id, t.number, c.id, o.conv?.id ?? null, t.subject, null, t.category, t.priority, t.status, w.fixed.staffIds[8], ts(t.resolvedMs), ts(t.ms), ts(t.resolvedMs ?? t.messages[t.messages.length - 1]!.ms)]);
  }
  return out;
}

function ticketMessageRows(c: CustomerSim): string {
  let out = '';
  for (const o of c.orders) for (const m of o.ticket?.messages ?? []) out += csvRow([m.id, o.ticket!.id, m.sender, m.senderId, m.text, ts(m.ms)]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// First pass: count orders to the target, accumulate the truth and the daily sales statistics

interface Tally {
  customers: number;
  orders: number;
  ordersByStatus: Record<string, number>;
  /** Conversations by first responder (the AI when it answered first, escalated or not); orders by closer. */
  closer: Record<Closer, { conversations: number; pSum: number; converted: number; orders: number; expectedTotal: number; total: number; escalated: number; frt: number[] }>;
  aiFirstConversations: number;
  escalations: number;
  escalationP: number;
  band: Record<'cold' | 'warm' | 'hot', { conversations: number; pSum: number; converted: number }>;
  webOrders: number;
  installmentOrders: number;
  /** Per UTC day × lane (0 ai, 1 admin): conversations, orders, revenue cents, first-response seconds sum and count. */
  daily: Float64Array;
}

const DAILY_FIELDS = 5;

function scan(w: World, target: number): Tally {
  const days = w.cal.days;
  const t: Tally = {
    customers: 0, orders: 0, ordersByStatus: {}, aiFirstConversations: 0, escalations: 0, escalationP: 0, webOrders: 0, installmentOrders: 0,
    closer: { ai: emptyCloser(), human: emptyCloser() },
    band: { cold: { conversations: 0, pSum: 0, converted: 0 }, warm: { conversations: 0, pSum: 0, converted: 0 }, hot: { conversations: 0, pSum: 0, converted: 0 } },
    daily: new Float64Array(days * 2 * DAILY_FIELDS),
  };
  while (t.orders < target) {
    const c = simulateCustomer(w, t.customers++);
    tallyCustomer(w, t, c);
  }
  return t;
}

function emptyCloser() {
  return { conversations: 0, pSum: 0, converted: 0, orders: 0, expectedTotal: 0, total: 0, escalated: 0, frt: [] as number[] };
}

function tallyCustomer(w: World, t: Tally, c: CustomerSim): void {
  const settled = w.endMs - SETTLE_MS;
  for (const v of c.convs) {
    const day = Math.floor((v.startMs - w.startMs) / DAY_MS);
    const lane = v.closer === 'ai' ? 0 : 1;
    const base = (day * 2 + lane) * DAILY_FIELDS;
    t.daily[base]! += 1;
    if (v.firstResponseMs !== null) {
      t.daily[base + 3]! += v.firstResponseMs / 1000;
      t.daily[base + 4]! += 1;
    }
    if (v.startMs >= settled) continue;
    const k = t.closer[v.aiFirst ? 'ai' : 'human'];
    k.conversations++;
    k.pSum += v.p;
    if (v.converted) k.converted++;
    if (v.escalated) k.escalated++;
    if (v.firstResponseMs !== null) k.frt.push(v.firstResponseMs / 1000);
    if (v.aiFirst) {
      t.aiFirstConversations++;
      if (v.escalated) t.escalations++;
    }
    if (v.first) {
      const b = t.band[bandOf(v.scoreAtStart)];
      b.conversations++;
      b.pSum += v.p;
      if (v.converted) b.converted++;
    }
  }
  for (const o of c.orders) {
    t.orders++;
    t.ordersByStatus[o.status] = (t.ordersByStatus[o.status] ?? 0) + 1;
    if (o.method === 'installment') t.installmentOrders++;
    if (o.lane === 'web') {
      t.webOrders++;
      continue;
    }
    const k = t.closer[o.lane];
    k.orders++;
    k.expectedTotal += expectedTotalCents(o.lane, o.enterprise);
    k.total += o.totalCents;
    if (o.status !== 'cancelled' && o.status !== 'pending') {
      const day = Math.floor((o.createdMs - w.startMs) / DAY_MS);
      const base = (day * 2 + (o.lane === 'ai' ? 0 : 1)) * DAILY_FIELDS;
      t.daily[base + 1]! += 1;
      t.daily[base + 2]! += o.totalCents;
    }
  }
}

function* salesStatisticRows(w: World, t: Tally): Generator<string> {
  const rng = new Rng(w.seed, STREAM_CATALOG, 1);
  for (let d = 0; d < w.cal.days; d++) {
    const dayStart = w.startMs + d * DAY_MS;
    for (let lane = 0; lane < 2; lane++) {
      const base = (d * 2 + lane) * DAILY_FIELDS;
      const convs = t.daily[base]!;
      const orders = t.daily[base + 1]!;
      const stamp = ts(dayStart + DAY_MS + 5 * MINUTE_MS >= w.endMs ? w.endMs - MINUTE_MS : dayStart + DAY_MS + 5 * MINUTE_MS);
      yield csvRow([uuid(rng), formatDate(dayStart), lane === 0 ? 'ai' : 'admin', null, convs, orders, formatCents(t.daily[base + 2]!),
        convs > 0 ? ((100 * orders) / convs).toFixed(2) : null, t.daily[base + 4]! > 0 ? (t.daily[base + 3]! / t.daily[base + 4]!).toFixed(2) : null, stamp, stamp]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Small tables

function* staffRows(w: World): Generator<string> {
  const at = ts(w.startMs - 60 * DAY_MS);
  for (let i = 0; i < STAFF.length; i++) {
    const s = STAFF[i]!;
    yield csvRow([w.fixed.staffIds[i], s.email, s.name, null, s.role, s.status, null, s.status === 'active' ? ts(w.endMs - HOUR_MS * (i + 1)) : null, at, at]);
  }
}

function* permissionRows(w: World): Generator<string> {
  const rng = new Rng(w.seed, STREAM_CATALOG, 2);
  const at = ts(w.startMs - 60 * DAY_MS);
  for (let i = 0; i < STAFF.length; i++) {
    for (const perm of PERMISSIONS[STAFF[i]!.role]) yield csvRow([uuid(rng), w.fixed.staffIds[i], perm, i === 0 ? null : w.fixed.staffIds[0], at]);
  }
}

function* productRows(w: World): Generator<string> {
  const at = ts(w.startMs - 90 * DAY_MS);
  for (let j = 0; j < PRODUCTS.length; j++) {
    const p = PRODUCTS[j]!;
    yield csvRow([w.fixed.productIds[j], p.sku, p.name, null, p.type, p.subject, formatCents(p.priceCents), null,
      formatCents(Math.round(p.priceCents * p.costShare)), p.type === 'book' ? 200 + 37 * j : null, p.type === 'book' ? null : 1095, true, at, at]);
  }
}

function* promoRows(w: World): Generator<string> {
  const at = ts(w.startMs - 30 * DAY_MS);
  for (let k = 0; k < PROMOS.length; k++) {
    const p = PROMOS[k]!;
    yield csvRow([w.fixed.promoIds[k], p.code, p.name, null, 'percentage', p.percent.toFixed(2), '0.00', null, 0, null, at, ts(w.endMs + 60 * DAY_MS), true, at, at]);
  }
}

function* faqRows(w: World): Generator<string> {
  const rng = new Rng(w.seed, STREAM_CATALOG, 3);
  const at = ts(w.startMs - 30 * DAY_MS);
  const faq: [string, string, string, string[]][] = [
    ['payment', 'ผ่อนชำระได้ไหม', 'ผ่อน 0% ได้ 3, 6 หรือ 10 เดือนสำหรับคอร์สตั้งแต่ 10,000 บาท', ['ผ่อน', 'installment']],
    ['access', 'เรียนได้นานแค่ไหน', 'เข้าเรียนได้ 3 ปีนับจากวันที่ซื้อ', ['อายุคอร์ส', 'access']],
    ['access', 'เข้าคอร์สไม่ได้ทำอย่างไร', 'ออกจากระบบแล้วเข้าใหม่ หรือแจ้งแอดมินพร้อมเลขคำสั่งซื้อ', ['login']],
    ['refund', 'ขอคืนเงินได้ไหม', 'คืนเงินได้ภายใน 7 วันหากเรียนไม่เกิน 20%', ['refund', 'คืนเงิน']],
    ['product', 'มีใบประกาศไหม', 'มีใบประกาศเมื่อเรียนจบ 100%', ['certificate']],
    ['shipping', 'หนังสือส่งกี่วัน', 'จัดส่งภายใน 1-3 วันทำการ', ['shipping', 'ส่งของ']],
  ];
  for (const [category, q, a, keys] of faq) yield csvRow([uuid(rng), category, q, a, `{${keys.map((k) => `"${k}"`).join(',')}}`, rng.int(10, 500), true, at, at]);
}

function* settingRows(w: World): Generator<string> {
  const rng = new Rng(w.seed, STREAM_CATALOG, 4);
  const at = ts(w.startMs - 30 * DAY_MS);
  const settings: [string, unknown, string][] = [
    ['ai.enabled', true, 'AI answers chats first'],
    ['ai.escalation_confidence', 0.7, 'Escalate to an admin below this confidence'],
    ['ai.hot_lead_threshold', 80, 'Notify an admin for leads scoring above this'],
    ['office_hours', { tz: 'Asia/Bangkok', open: '09:00', close: '21:00' }, 'Admin working hours'],
    ['course.access_years', 3, 'Course access after purchase'],
    ['installment.min_amount', 10000, 'Smallest order total (THB) that may be paid in installments'],
  ];
  for (const [key, value, description] of settings) yield csvRow([uuid(rng), key, JSON.stringify(value), description, w.fixed.staffIds[0], at, at]);
}

// ---------------------------------------------------------------------------------------------

function utcMidnight(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, digits = 6): number => Math.round(x * 10 ** digits) / 10 ** digits;

export const generateCourseSales: ProfileGenerator = async (client: pg.ClientBase, opts: ProfileGenerateOptions): Promise<ProfileTruth> => {
  const seed = opts.seed ?? 1;
  const target = opts.orders ?? 20_000;
  const days = opts.days ?? 365;
  if (!Number.isInteger(target) || target <= 0) throw new RangeError(`orders must be a positive integer, got ${target}`);
  if (!Number.isInteger(days) || days <= 0) throw new RangeError(`days must be a positive integer, got ${days}`);
  const endMs = utcMidnight(opts.end ?? new Date());
  const startMs = endMs - days * DAY_MS;
  // The calendar runs on Bangkok wall-clock time: its hours and weekdays are Bangkok's.
  const w: World = { seed, cal: new Calendar(endMs + BANGKOK_OFFSET_MS, days), startMs, endMs, fixed: fixedIds(seed) };
  const t = scan(w, target);
  const n = t.customers;
  const tables: Record<string, number> = {};
  const copy = async (table: string, columns: readonly string[], rows: Iterable<string>): Promise<void> => {
    tables[table] = await copyRows(client, table, columns, rows);
  };
  // Per-customer passes yield one chunk per customer (several rows): their counts are chunks, not rows.
  const copyChunks = async (table: string, columns: readonly string[], rows: (c: CustomerSim) => string): Promise<void> => {
    await copyRows(client, table, columns, perCustomer(w, n, rows));
  };

  await copy('users', ['id', 'email', 'full_name', 'phone', 'role', 'status', 'avatar_url', 'last_login_at', 'created_at', 'updated_at'], staffRows(w));
  await copy('user_permissions', ['id', 'user_id', 'permission', 'granted_by', 'created_at'], permissionRows(w));
  await copy('products', ['id', 'sku', 'name', 'description', 'product_type', 'category', 'price', 'sale_price', 'cost', 'stock_quantity', 'access_duration_days', 'is_active', 'created_at', 'updated_at'], productRows(w));
  await copy('promotions', ['id', 'code', 'name', 'description', 'discount_type', 'discount_value', 'min_purchase', 'max_uses', 'used_count', 'applicable_product_types', 'starts_at', 'ends_at', 'is_active', 'created_at', 'updated_at'], promoRows(w));
  await copy('common_issues', ['id', 'category', 'question', 'answer', 'keywords', 'usage_count', 'is_active', 'created_at', 'updated_at'], faqRows(w));
  await copy('system_settings', ['id', 'key', 'value', 'description', 'updated_by', 'created_at', 'updated_at'], settingRows(w));
  await copy('customers', CUSTOMER_COLUMNS, customerRows(w, n));
  await copyChunks('lead_score_history', ['id', 'customer_id', 'old_score', 'new_score', 'reason', 'changed_by', 'created_at'], (c) => scoreRows(w, c));
  await copyChunks('conversations', ['id', 'customer_id', 'channel', 'status', 'is_ai_active', 'assigned_to', 'last_message_at', 'closed_at', 'created_at', 'updated_at'], (c) => conversationRows(w, c));
  await copyChunks('messages', ['id', 'conversation_id', 'sender_type', 'sender_id', 'content', 'message_type', 'is_read', 'created_at'], messageRows);
  await copyChunks('ai_interactions', ['id', 'customer_id', 'conversation_id', 'message_id', 'intent', 'confidence_score', 'ai_response', 'escalated', 'escalation_reason', 'tokens_used', 'cost', 'model', 'response_time_ms', 'created_at'], aiRows);
  await copyChunks('orders', ['id', 'order_number', 'customer_id', 'conversation_id', 'status', 'payment_method', 'payment_status', 'payment_channel', 'subtotal', 'discount_amount', 'total_amount', 'refund_amount',
    'promotion_id', 'closed_by', 'closed_by_user_id', 'paid_at', 'cancelled_at', 'refunded_at', 'notes', 'created_at', 'updated_at'], (c) => orderRows(w, c));
  tables['orders'] = t.orders;
  await copyChunks('order_items', ['id', 'order_id', 'product_id', 'quantity', 'unit_price', 'total_price', 'created_at'], (c) => itemRows(w, c));
  await copyChunks('installment_plans', ['id', 'order_id', 'customer_id', 'total_amount', 'number_of_installments', 'installment_amount', 'interest_rate', 'start_date', 'status', 'created_at', 'updated_at'], planRows);
  await copyChunks('installment_payments', ['id', 'plan_id', 'installment_number', 'amount', 'due_date', 'paid_at', 'status', 'payment_reference', 'created_at', 'updated_at'], installmentRows);
  await copyChunks('customer_purchases', ['id', 'customer_id', 'product_id', 'order_id', 'purchased_at', 'expires_at', 'is_active', 'progress_percent', 'completed_at', 'created_at', 'updated_at'], (c) => purchaseRows(w, c));
  await copyChunks('follow_ups', ['id', 'customer_id', 'order_id', 'follow_up_type', 'scheduled_at', 'sent_at', 'status', 'channel', 'message', 'created_at', 'updated_at'], followUpRows);
  await copyChunks('support_tickets', ['id', 'ticket_number', 'customer_id', 'conversation_id', 'subject', 'description', 'category', 'priority', 'status', 'assigned_to', 'resolved_at', 'created_at', 'updated_at'], (c) => ticketRows(w, c));
  await copyChunks('ticket_messages', ['id', 'ticket_id', 'sender_type', 'sender_id', 'message', 'created_at'], ticketMessageRows);
  await copy('sales_statistics', ['id', 'date', 'closed_by', 'user_id', 'conversations_count', 'orders_count', 'revenue', 'conversion_rate', 'avg_response_time_seconds', 'created_at', 'updated_at'], salesStatisticRows(w, t));

  return buildTruth(w, t, target, days, tables);
};

function closerTruth(k: Tally['closer'][Closer]) {
  return { conversion: k.conversations ? round(k.pSum / k.conversations) : null, aov: k.orders ? Math.round(k.expectedTotal / k.orders) / 100 : 0 };
}

function buildTruth(w: World, t: Tally, target: number, days: number, tables: Record<string, number>): ProfileTruth {
  const settled = isoString(w.endMs - SETTLE_MS);
  const band = (b: Tally['band']['cold']) => ({ conversations: b.conversations, expected_conversion: b.conversations ? round(b.pSum / b.conversations) : null, realised_conversions: b.converted });
  const realised = (k: Tally['closer'][Closer]) => ({
    conversations: k.conversations, converted: k.converted, orders: k.orders, mean_total: k.orders ? Math.round(k.total / k.orders) / 100 : null,
    escalated: k.escalated, median_first_response_seconds: median(k.frt),
  });
  return {
    generator: 'course-sales',
    seed: w.seed,
    start: isoString(w.startMs),
    end: isoString(w.endMs),
    currency: 'THB',
    tenants: ['default'],
    orders: t.orders,
    closers: { ai: closerTruth(t.closer.ai), human: closerTruth(t.closer.human) },
    extra: {
      options: { orders: target, days },
      closers_definition: `conversion: mean of the conversion probability the generator drew each outcome with, over conversations started in [start, ${settled}) (later ones may not have played out), grouped by FIRST responder as /v1/kpis/ai-vs-admin does: the AI when it answered first (handled_by ai or mixed; an escalated chat counts for the AI), a human when only people replied. The chat's outcome itself is drawn with the intercept of whoever handles it to the end (an escalated chat converts at the human rate). aov: mean over every order with closed_by (any status) of E[total | closer, enterprise] in THB, closer = orders.closed_by.`,
      closers_window: { from: isoString(w.startMs), to: settled },
      realised: { ai: realised(t.closer.ai), human: realised(t.closer.human), web_orders: t.webOrders, installment_orders: t.installmentOrders, orders_by_status: t.ordersByStatus, customers: t.customers },
      conversion_model: { formula: 'p = sigmoid(intercept[closer] + slope * (lead_score - 50) / 25 + returning * [customer paid an order before])', intercept: CONVERSION.intercept, slope: CONVERSION.slope, returning: CONVERSION.returning },
      escalation: {
        formula: 'AI-first chats: P(escalate) = sigmoid(intercept + slope * (lead_score - 50) / 25); always for VIP and enterprise customers',
        intercept: ESCALATION.intercept, slope: ESCALATION.slope, ai_first_probability: AI_FIRST_PROBABILITY,
        realised_rate_among_ai_first: t.aiFirstConversations ? round(t.escalations / t.aiFirstConversations) : null,
      },
      first_response: FIRST_RESPONSE,
      lead_score: {
        initial: 'clamp(round(50 + 20 z + N(0, 8) + 10 [enterprise]), 0, 100), z ~ N(0, 1); +15 after a chat purchase, +10 after a web purchase, N(-1, 6) drift after other answered chats',
        first_conversation_by_band: { cold: band(t.band.cold), warm: band(t.band.warm), hot: band(t.band.hot) },
      },
      contacts: { model: 'BG/NBD in operational (Bangkok wall-clock) days', ...CONTACTS, web_order_share: WEB_ORDER_SHARE },
      intensity: 'calendar.ts m(t) = trend x weekly x hourly, read in Asia/Bangkok wall-clock time',
      order_model: {
        price_tilt: PRICE_TILT, addon_probability: ADDON_PROBABILITY, promo_probability: PROMO_PROBABILITY, promos: PROMOS,
        enterprise_share: ENTERPRISE_SHARE, enterprise_seats: '5 + Poisson(5)', vip_threshold_thb: VIP_THRESHOLD_CENTS / 100,
        expected_total_thb: { ai: Math.round(expectedTotalCents('ai', false)) / 100, human: Math.round(expectedTotalCents('human', false)) / 100, web: Math.round(expectedTotalCents('web', false)) / 100 },
      },
      installment_model: INSTALLMENT,
      status_model: STATUS_MODEL,
      products: PRODUCTS.map((p) => ({ sku: p.sku, name: p.name, type: p.type, price: p.priceCents / 100 })),
      tables,
    },
  };
}
