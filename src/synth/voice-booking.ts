/**
 * Deterministic synthetic history for the `voice-booking` profile (seed 003): a laundry pickup service
 * whose phone line is answered by a voice AI agent (sometimes handing over to staff, sometimes answered
 * by staff directly) and whose SMS line is answered by an SMS agent. Loaded with streaming COPY into a
 * database that already has `test/fixtures/schemas/voice-booking.sql`.
 *
 * Generative model (every parameter is reported in the truth):
 * - Customers contact the business as a BG/NBD process in operational time (calendar.ts: trend ×
 *   weekly × hourly): born at τ ~ U(0, M(end)) with a first contact, repeat contacts after Exp(λ)
 *   gaps, λ ~ Gamma(r, α) per operational day, dropping out with p ~ Beta(a, b) after each repeat.
 * - Each contact is a call (VOICE_SHARE) or an SMS thread. A call is answered by the AI
 *   (AI_ANSWER_SHARE) or by staff; the AI transfers a call to staff with TRANSFER_PROBABILITY. A small
 *   share of calls is preceded by an unconnected attempt (busy/no-answer/failed, no transcript).
 * - Each conversation becomes a booking with its handler's conversion probability (CONVERSION); the
 *   AI's bookings have source voice/sms, staff's (answered or transferred) source manual.
 * - A booking's service comes from the closer's service mix, its amount = pickup fee + per-load rate ×
 *   loads (loads = 1 + Poisson(mean − 1)), so each closer's true AOV is known in closed form.
 * - Outcome: prepaid at booking (PREPAY) or paid at service; cancelled (CANCEL) at a uniform time
 *   before the appointment; no-show (NO_SHOW) if the appointment passed; see bookingOutcome.
 *
 * Determinism: everything about customer i comes from the streams (seed, CUSTOMER, i) and
 * (seed, CONTACT, i, k), so every table pass regenerates the same customer on its own. Memory is
 * O(days + one customer's contacts).
 */
import type pg from 'pg';
import { Calendar, DAY_MS, formatDate, formatTimestamp, isoString } from './calendar.js';
import { copyRows, csvRow, formatCents } from './copy.js';
import type { CloserTruth, ProfileGenerateOptions, ProfileGenerator, ProfileTruth } from './profile-generator.js';
import { Rng, beta, exponential, gamma, lognormalWithMean, pickWeighted, poisson, uuid } from './random.js';

const STREAM_CUSTOMER = 0x3c01;
const STREAM_CONTACT = 0x3c02;
const STREAM_STATIC = 0x3c03;
const STREAM_CUSTOMER_ID = 0x3c04;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Contacts per operational day: a customer contacts about every 1–2 months while alive. */
export const CONTACT_PROCESS = { r: 0.6, alpha: 30, a: 0.8, b: 2.4 } as const;

export const VOICE_SHARE = 0.78;
export const AI_ANSWER_SHARE = 0.85;
export const TRANSFER_PROBABILITY = 0.14;
export const FAILED_ATTEMPT_PROBABILITY = 0.04;
/** P(booking | conversation) by who handled it. */
export const CONVERSION = { ai_voice: 0.4, ai_sms: 0.33, human: 0.55, mixed: 0.45 } as const;
export const PREPAY = 0.55;
export const CANCEL = 0.09;
export const NO_SHOW = 0.05;
/** P(payment taken at the service fails / is still pending) for a completed booking not prepaid. */
export const PAY_AT_SERVICE = { failed: 0.02, pending: 0.03 } as const;
/** P(a prepayment attempt at booking fails) for a booking whose appointment is still ahead. */
export const PREPAY_FAILED = 0.04;
/** First response, seconds: the AI answers in 1–3 s; staff after 4 s + Gamma(2, 1/8) (mean 20 s). */
export const FIRST_RESPONSE = { ai: [1, 3], staff: { offset: 4, shape: 2, scale: 8 }, sms: [3, 25] } as const;
/** Mean call seconds (lognormal, sd of log 0.4) of the AI part, the staff part of a transfer, a staff call. */
export const CALL_SECONDS = { ai: 140, transferred_staff: 200, staff: 240, sigma: 0.4 } as const;
const CALL_CENTS_PER_MINUTE = 9;
const SMS_CENTS = 1;

interface Service {
  name: string;
  feeCents: number;
  perLoadCents: number;
  loadsMean: number;
  minutes: number;
  /** Mix weight among the AI's bookings and among staff's. */
  ai: number;
  human: number;
}

export const SERVICES: readonly Service[] = [
  { name: 'Wash & Fold Pickup', feeCents: 599, perLoadCents: 1899, loadsMean: 2.2, minutes: 30, ai: 0.55, human: 0.3 },
  { name: 'Dry Cleaning Pickup', feeCents: 999, perLoadCents: 2499, loadsMean: 1.6, minutes: 30, ai: 0.2, human: 0.2 },
  { name: 'Comforter & Bedding', feeCents: 0, perLoadCents: 3499, loadsMean: 1.3, minutes: 20, ai: 0.15, human: 0.1 },
  { name: 'Same-Day Express', feeCents: 1499, perLoadCents: 2299, loadsMean: 1.8, minutes: 45, ai: 0.08, human: 0.15 },
  { name: 'Commercial Laundry', feeCents: 2499, perLoadCents: 1599, loadsMean: 6, minutes: 60, ai: 0.02, human: 0.25 },
];
const AI_MIX = SERVICES.map((s) => s.ai);
const HUMAN_MIX = SERVICES.map((s) => s.human);

const BUSINESS = 'SpinCycle Laundry Pickup';
const FIRST = ['James', 'Maria', 'Robert', 'Linda', 'Michael', 'Sofia', 'David', 'Aisha', 'Daniel', 'Mei', 'Carlos', 'Emma', 'Noah', 'Priya', 'Liam', 'Grace'];
const LAST = ['Smith', 'Garcia', 'Johnson', 'Nguyen', 'Brown', 'Martinez', 'Lee', 'Patel', 'Wilson', 'Kim', 'Lopez', 'Clark', 'Walker', 'Young'];
const STREETS = ['Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Main', 'Lake', 'Hill', 'Park', 'River'];
const STAFF = ['Dana', 'Marcus', 'Ivy', 'Tom'];
const AREA_CODES = ['512', '737', '210', '214', '469', '713'];

type Handler = 'ai' | 'human' | 'mixed' | 'sms';

interface CustomerHeader {
  i: number;
  /** customers.id (appears nowhere else: other tables name the customer by phone). */
  id: string;
  name: string;
  phone: string;
  email: string | null;
  tags: string;
  address: string;
  birthMs: number;
}

interface Booking {
  id: string;
  createdMs: number;
  updatedMs: number;
  source: 'voice' | 'sms' | 'manual';
  service: Service;
  loads: number;
  amountCents: number;
  scheduledMs: number;
  status: string;
  paymentStatus: string;
  reminderMs: number | null;
  confirmation: boolean;
  notes: string | null;
}

interface SmsMessage {
  id: string;
  ms: number;
  direction: 'inbound' | 'outbound';
  body: string;
  status: string;
  bookingId: string | null;
}

interface CallRow {
  id: string;
  startMs: number;
  updatedMs: number;
  duration: number;
  status: string;
  transcript: string | null;
  notes: string | null;
  sentiment: string | null;
  bookingId: string | null;
  costCents: number;
}

interface Contact {
  handler: Handler;
  calls: CallRow[];
  sms: SmsMessage[];
  booking: Booking | null;
  firstResponseSeconds: number;
}

function utcMidnight(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** '[mm:ss]' transcript offset. */
function offset(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `[${m < 10 ? '0' + m : m}:${s < 10 ? '0' + s : s}]`;
}

/** 'hh:mm AM/PM' as the seed's appointment_time. */
function clock12(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const m = d.getUTCMinutes();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${h12 < 10 ? '0' + h12 : h12}:${m < 10 ? '0' + m : m} ${h < 12 ? 'AM' : 'PM'}`;
}

/** E[amount] in cents of a booking drawn from a service mix. */
function expectedAmountCents(mix: readonly number[]): number {
  const total = mix.reduce((s, w) => s + w, 0);
  return SERVICES.reduce((s, svc, j) => s + (mix[j]! / total) * (svc.feeCents + svc.perLoadCents * svc.loadsMean), 0);
}

/**
 * One customer and all their contacts, regenerated identically by every table pass. `run(i)` fills
 * `header` and `contacts`.
 */
class CustomerSim {
  private readonly rng = new Rng(0);
  private readonly det = new Rng(0);
  header!: CustomerHeader;
  contacts: Contact[] = [];

  constructor(private readonly seed: number, private readonly cal: Calendar) {}

  run(i: number): void {
    const rng = this.rng.reseed(this.seed, STREAM_CUSTOMER, i);
    const first = FIRST[rng.int(0, FIRST.length - 1)]!;
    const last = LAST[rng.int(0, LAST.length - 1)]!;
    // i·7919 mod 10^7 is a bijection on i < 10^7: phone numbers never collide.
    const local = String((i * 7919 + 1234567) % 10_000_000).padStart(7, '0');
    const phone = `+1${AREA_CODES[i % AREA_CODES.length]}${local}`;
    const email = rng.bernoulli(0.6) ? `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.test` : null;
    const tagDraw = rng.next();
    const tags = tagDraw < 0.05 ? '{vip}' : tagDraw < 0.13 ? '{commercial}' : tagDraw < 0.2 ? '{repeat,referral}' : '{}';
    const address = `${100 + rng.int(0, 8800)} ${STREETS[rng.int(0, STREETS.length - 1)]} St, Austin, TX`;
    const total = this.cal.totalOperational;
    const tauBirth = rng.next() * total;
    const lambda = gamma(rng, CONTACT_PROCESS.r, CONTACT_PROCESS.alpha);
    const p = beta(rng, CONTACT_PROCESS.a, CONTACT_PROCESS.b);
    const birthMs = this.cal.toCalendarMs(tauBirth);
    const id = uuid(this.det.reseed(this.seed, STREAM_CUSTOMER_ID, i));
    this.header = { i, id, name: `${first} ${last}`, phone, email, tags, address, birthMs };
    this.contacts = [];
    let tau = tauBirth;
    let ms = birthMs;
    for (let k = 0; ; k++) {
      this.contacts.push(this.contact(i, k, ms));
      tau += exponential(rng, 1) / lambda;
      if (!(tau < total)) break;
      ms = this.cal.toCalendarMs(tau);
      if (k > 0 && rng.next() < p) break;
    }
  }

  /** The k-th contact at `ms`: a call (maybe after a failed attempt) or an SMS thread, and its booking. */
  private contact(i: number, k: number, ms: number): Contact {
    const r = this.det.reseed(this.seed, STREAM_CONTACT, i, k);
    const c: Contact = { handler: 'ai', calls: [], sms: [], booking: null, firstResponseSeconds: 0 };
    if (r.next() < VOICE_SHARE) this.call(r, c, ms);
    else this.smsThread(r, c, ms);
    return c;
  }

  private call(r: Rng, c: Contact, startMs: number): void {
    if (r.next() < FAILED_ATTEMPT_PROBABILITY) {
      const status = ['busy', 'no-answer', 'failed'][r.int(0, 2)]!;
      c.calls.push({ id: uuid(r), startMs: startMs - r.int(60, 600) * SECOND, updatedMs: 0, duration: 0, status, transcript: null, notes: null, sentiment: null, bookingId: null, costCents: 0 });
      c.calls[0]!.updatedMs = c.calls[0]!.startMs + r.int(5, 40) * SECOND;
    }
    const id = uuid(r);
    const aiAnswers = r.next() < AI_ANSWER_SHARE;
    const transferred = aiAnswers && r.next() < TRANSFER_PROBABILITY;
    c.handler = transferred ? 'mixed' : aiAnswers ? 'ai' : 'human';
    const first = aiAnswers ? r.int(FIRST_RESPONSE.ai[0], FIRST_RESPONSE.ai[1]) : FIRST_RESPONSE.staff.offset + Math.round(gamma(r, FIRST_RESPONSE.staff.shape, 1 / FIRST_RESPONSE.staff.scale));
    c.firstResponseSeconds = first;
    const conv = c.handler === 'ai' ? CONVERSION.ai_voice : c.handler === 'human' ? CONVERSION.human : CONVERSION.mixed;
    const booked = r.next() < conv;
    const svcIndex = pickWeighted(c.handler === 'ai' ? AI_MIX : HUMAN_MIX, r.next());
    const svc = SERVICES[svcIndex]!;
    const lines: string[] = [];
    let t = first;
    let staffName = STAFF[r.int(0, STAFF.length - 1)]!;
    if (aiAnswers) {
      lines.push(`${offset(t)} AI: Thanks for calling ${BUSINESS}, I'm the virtual assistant. How can I help?`);
      t += r.int(3, 8);
      lines.push(`${offset(t)} Customer: Hi, I'd like to set up a ${svc.name.toLowerCase()}.`);
      const aiPart = Math.max(t + 15, Math.round(lognormalWithMean(r, CALL_SECONDS.ai, CALL_SECONDS.sigma)));
      if (transferred) {
        lines.push(`${offset(aiPart - 5)} AI: Let me transfer you to a member of our team.`);
        const hold = r.int(10, 60);
        t = aiPart + hold;
        lines.push(`${offset(t)} Staff: Hi, this is ${staffName} at ${BUSINESS}, I can help with that.`);
        t += Math.max(20, Math.round(lognormalWithMean(r, CALL_SECONDS.transferred_staff, CALL_SECONDS.sigma)));
      } else {
        t = aiPart;
      }
    } else {
      staffName = STAFF[r.int(0, STAFF.length - 1)]!;
      lines.push(`${offset(t)} Staff: Good day, ${BUSINESS}, this is ${staffName}.`);
      t += r.int(3, 8);
      lines.push(`${offset(t)} Customer: Hi, I'd like to set up a ${svc.name.toLowerCase()}.`);
      t = Math.max(t + 20, Math.round(lognormalWithMean(r, CALL_SECONDS.staff, CALL_SECONDS.sigma)));
    }
    const speaker = c.handler === 'ai' ? 'AI' : 'Staff';
    lines.push(booked
      ? `${offset(t - 3)} ${speaker}: You're all set, we'll send a confirmation by text.`
      : `${offset(t - 3)} ${speaker}: No problem, call us back whenever you're ready.`);
    const duration = t;
    const endMs = startMs + duration * SECOND;
    const call: CallRow = {
      id, startMs, updatedMs: endMs, duration, status: 'completed', transcript: lines.join('\n'),
      notes: transferred ? `Transferred to staff (${staffName})` : null,
      sentiment: pickSentiment(r, booked), bookingId: null, costCents: Math.ceil(duration / 60) * CALL_CENTS_PER_MINUTE,
    };
    c.calls.push(call);
    if (booked) {
      // The AI books during the call; staff enter a manual booking just after it.
      const createdMs = c.handler === 'ai' ? startMs + Math.floor(duration * 0.8) * SECOND : endMs + r.int(30, 900) * SECOND;
      c.booking = this.booking(r, createdMs, c.handler === 'ai' ? 'voice' : 'manual', svc);
      call.bookingId = c.booking.id;
      call.updatedMs = Math.max(endMs, createdMs + SECOND);
      if (c.booking.confirmation) c.sms.push({ id: uuid(r), ms: createdMs + 2 * SECOND, direction: 'outbound', body: confirmationText(c.booking), status: 'delivered', bookingId: c.booking.id });
    }
  }

  private smsThread(r: Rng, c: Contact, startMs: number): void {
    c.handler = 'sms';
    const svc = SERVICES[pickWeighted(AI_MIX, r.next())]!;
    const booked = r.next() < CONVERSION.ai_sms;
    const first = r.int(FIRST_RESPONSE.sms[0], FIRST_RESPONSE.sms[1]);
    c.firstResponseSeconds = first;
    let t = startMs;
    c.sms.push({ id: uuid(r), ms: t, direction: 'inbound', body: `Hi, can I book a ${svc.name.toLowerCase()}?`, status: 'received', bookingId: null });
    t += first * SECOND;
    c.sms.push({ id: uuid(r), ms: t, direction: 'outbound', body: 'Sure! What day and time work for you?', status: 'delivered', bookingId: null });
    const exchanges = r.int(1, 3);
    for (let e = 0; e < exchanges; e++) {
      t += r.int(30, 600) * SECOND;
      c.sms.push({ id: uuid(r), ms: t, direction: 'inbound', body: e === 0 ? 'Tomorrow afternoon if possible' : 'OK', status: 'received', bookingId: null });
      t += r.int(3, 20) * SECOND;
      c.sms.push({ id: uuid(r), ms: t, direction: 'outbound', body: 'Got it, checking availability.', status: 'delivered', bookingId: null });
    }
    if (booked) {
      c.booking = this.booking(r, t + SECOND, 'sms', svc);
      if (c.booking.confirmation) c.sms.push({ id: uuid(r), ms: t + 2 * SECOND, direction: 'outbound', body: confirmationText(c.booking), status: 'delivered', bookingId: c.booking.id });
    }
  }

  /** A booking made at `createdMs` and its state at the end of the history (bookingOutcome). */
  private booking(r: Rng, createdMs: number, source: Booking['source'], svc: Service): Booking {
    const id = uuid(r);
    const loads = 1 + poisson(r, svc.loadsMean - 1);
    const amountCents = svc.feeCents + svc.perLoadCents * loads;
    const dayStart = Math.floor(createdMs / DAY_MS) * DAY_MS;
    const scheduledMs = dayStart + r.int(1, 10) * DAY_MS + r.int(14, 23) * HOUR + (r.bernoulli(0.5) ? 30 * MINUTE : 0);
    const b: Booking = {
      id, createdMs, updatedMs: createdMs, source, service: svc, loads, amountCents, scheduledMs,
      status: 'pending', paymentStatus: 'pending', reminderMs: null, confirmation: r.next() < 0.9,
      notes: r.bernoulli(0.15) ? 'Gate code at the side entrance' : null,
    };
    bookingOutcome(r, b, this.cal.endMs);
    return b;
  }
}

function pickSentiment(r: Rng, booked: boolean): string {
  return ['positive', 'neutral', 'negative'][pickWeighted(booked ? [0.7, 0.25, 0.05] : [0.25, 0.5, 0.25], r.next())]!;
}

function confirmationText(b: Booking): string {
  return `${BUSINESS}: your ${b.service.name} is booked for ${formatDate(b.scheduledMs)} ${clock12(b.scheduledMs)}. Reply C to cancel.`;
}

/**
 * Where a booking stands at `endMs`. Prepaid at booking with PREPAY; cancelled with CANCEL at a uniform
 * time between booking and appointment (if before the end); otherwise, once the appointment passed,
 * a no-show with NO_SHOW or completed (paid at the service if not prepaid). Still ahead: confirmed when
 * a confirmation went out, else scheduled/pending; a prepayment attempt may have failed.
 */
function bookingOutcome(r: Rng, b: Booking, endMs: number): void {
  const prepaid = r.next() < PREPAY;
  const cancelDraw = r.next();
  const cancelMs = b.createdMs + Math.floor(r.next() * (b.scheduledMs - b.createdMs));
  const noShowDraw = r.next();
  const payDraw = r.next();
  const reminderMs = b.scheduledMs - DAY_MS;
  const reminded = (until: number) => (reminderMs < until && reminderMs > b.createdMs ? reminderMs : null);
  if (cancelDraw < CANCEL && cancelMs < endMs) {
    b.status = 'cancelled';
    b.paymentStatus = prepaid ? 'paid' : 'pending';
    b.reminderMs = reminded(cancelMs);
    b.updatedMs = cancelMs;
  } else if (b.scheduledMs < endMs) {
    b.reminderMs = reminded(endMs);
    if (noShowDraw < NO_SHOW) {
      b.status = 'no-show';
      b.paymentStatus = prepaid ? 'paid' : 'pending';
      b.updatedMs = b.scheduledMs + HOUR;
    } else {
      b.status = 'completed';
      b.paymentStatus = prepaid ? 'paid' : payDraw < PAY_AT_SERVICE.failed ? 'failed' : payDraw < PAY_AT_SERVICE.failed + PAY_AT_SERVICE.pending ? 'pending' : 'paid';
      b.updatedMs = b.scheduledMs + b.service.minutes * MINUTE;
    }
  } else {
    b.reminderMs = reminded(endMs);
    b.status = b.confirmation ? 'confirmed' : payDraw < 0.5 ? 'scheduled' : 'pending';
    b.paymentStatus = prepaid ? 'paid' : payDraw < PREPAY_FAILED ? 'failed' : 'pending';
    b.updatedMs = b.reminderMs ?? b.createdMs;
  }
  if (b.reminderMs !== null && b.reminderMs > b.updatedMs) b.updatedMs = b.reminderMs;
}

// ---------------------------------------------------------------------------------------------
// Scan: how many customers reach the booking target, and the daily figures of the analytics table.

interface Scan {
  customers: number;
  bookings: number;
  bookingsBySource: Record<string, number>;
  bookingsByStatus: Record<string, number>;
  conversations: Record<Handler, number>;
  calls: number;
  sms: number;
  day: { calls: Int32Array; okCalls: Int32Array; failedCalls: Int32Array; bookings: Int32Array; sms: Int32Array; costCents: Float64Array };
}

function scan(sim: CustomerSim, cal: Calendar, target: number): Scan {
  const days = cal.days;
  const s: Scan = {
    customers: 0, bookings: 0, bookingsBySource: {}, bookingsByStatus: {}, conversations: { ai: 0, human: 0, mixed: 0, sms: 0 }, calls: 0, sms: 0,
    day: { calls: new Int32Array(days), okCalls: new Int32Array(days), failedCalls: new Int32Array(days), bookings: new Int32Array(days), sms: new Int32Array(days), costCents: new Float64Array(days) },
  };
  const dayOf = (ms: number) => Math.min(days - 1, Math.max(0, cal.dayOf(ms)));
  while (s.bookings < target) {
    sim.run(s.customers++);
    for (const c of sim.contacts) {
      s.conversations[c.handler]++;
      for (const call of c.calls) {
        const d = dayOf(call.startMs);
        s.calls++;
        s.day.calls[d]!++;
        if (call.status === 'completed') s.day.okCalls[d]!++;
        else s.day.failedCalls[d]!++;
        s.day.costCents[d]! += call.costCents;
      }
      for (const m of allSms(c)) {
        const d = dayOf(m.ms);
        s.sms++;
        s.day.sms[d]!++;
        s.day.costCents[d]! += SMS_CENTS;
      }
      const b = c.booking;
      if (b) {
        s.bookings++;
        s.day.bookings[dayOf(b.createdMs)]!++;
        s.bookingsBySource[b.source] = (s.bookingsBySource[b.source] ?? 0) + 1;
        s.bookingsByStatus[b.status] = (s.bookingsByStatus[b.status] ?? 0) + 1;
      }
    }
  }
  return s;
}

/** A contact's SMS including its booking's reminder, in time order. */
function allSms(c: Contact): SmsMessage[] {
  const b = c.booking;
  if (!b || b.reminderMs === null) return c.sms;
  const reminder: SmsMessage = {
    id: reminderId(b), ms: b.reminderMs, direction: 'outbound', status: 'delivered', bookingId: b.id,
    body: `Reminder: your ${b.service.name} pickup is tomorrow at ${clock12(b.scheduledMs)}.`,
  };
  return [...c.sms, reminder];
}

/** The reminder's id, from the booking's id (a UUID with its last hex digits rotated): stable without a stream. */
function reminderId(b: Booking): string {
  return b.id.slice(0, 24) + b.id.slice(30) + b.id.slice(24, 30);
}

// ---------------------------------------------------------------------------------------------
// Rows per table. Every pass regenerates customers 0..N−1 in order.

const ts = (ms: number): string => formatTimestamp(ms) + '+00';

function* eachContact(sim: CustomerSim, customers: number): Generator<Contact> {
  for (let i = 0; i < customers; i++) {
    sim.run(i);
    yield* sim.contacts;
  }
}

function* customerRows(sim: CustomerSim, customers: number): Generator<string> {
  for (let i = 0; i < customers; i++) {
    sim.run(i);
    const h = sim.header;
    let bookings = 0;
    let calls = 0;
    let spent = 0;
    let last = h.birthMs;
    let updated = h.birthMs;
    for (const c of sim.contacts) {
      for (const call of c.calls) {
        calls++;
        last = Math.max(last, call.startMs);
      }
      for (const m of c.sms) if (m.direction === 'inbound') last = Math.max(last, m.ms);
      if (c.booking) {
        bookings++;
        if (c.booking.paymentStatus === 'paid' && c.booking.status !== 'cancelled') spent += c.booking.amountCents;
        updated = Math.max(updated, c.booking.updatedMs);
      }
    }
    updated = Math.max(updated, last);
    const first = Math.min(h.birthMs, ...sim.contacts[0]!.calls.map((x) => x.startMs));
    yield csvRow([h.id, ts(first), ts(updated), h.name, h.phone, h.email, bookings, calls, ts(last), null, h.tags, h.address, formatCents(spent)]);
  }
}

function* bookingRows(sim: CustomerSim, customers: number): Generator<string> {
  for (const c of eachContact(sim, customers)) {
    const b = c.booking;
    if (!b) continue;
    const h = sim.header;
    yield csvRow([
      b.id, ts(b.createdMs), ts(b.updatedMs), h.name, h.phone, h.email, b.service.name, formatDate(b.scheduledMs), clock12(b.scheduledMs),
      b.status, b.source, b.notes, b.reminderMs !== null, b.confirmation, `${b.service.name} – ${b.loads} load${b.loads > 1 ? 's' : ''}`,
      ts(b.scheduledMs), b.service.minutes, h.address, formatCents(b.amountCents), 'USD', b.paymentStatus, b.loads,
    ]);
  }
}

function* callRows(sim: CustomerSim, customers: number): Generator<string> {
  for (const c of eachContact(sim, customers)) {
    for (const call of c.calls) {
      const connected = call.status === 'completed';
      yield csvRow([
        call.id, ts(call.startMs), ts(call.updatedMs), sim.header.phone, connected ? sim.header.name : null, call.duration, call.status, 'inbound',
        connected ? `https://recordings.example.test/${call.id}.mp3` : null, call.transcript, formatCents(call.costCents), call.notes, call.sentiment, call.bookingId,
      ]);
    }
  }
}

function* smsRows(sim: CustomerSim, customers: number): Generator<string> {
  for (const c of eachContact(sim, customers)) {
    for (const m of allSms(c)) {
      yield csvRow([m.id, ts(m.ms), sim.header.phone, m.direction, m.body, m.status, m.bookingId, formatCents(SMS_CENTS)]);
    }
  }
}

function* analyticsRows(seed: number, cal: Calendar, s: Scan): Generator<string> {
  const r = new Rng(seed, STREAM_STATIC, 1);
  for (let d = 0; d < cal.days; d++) {
    const calls = s.day.calls[d]!;
    const rate = calls > 0 ? Math.round((10_000 * s.day.bookings[d]!) / calls) : 0;
    yield csvRow([uuid(r), formatDate(cal.dayStartMs(d)), calls, s.day.bookings[d]!, s.day.sms[d]!, formatCents(s.day.costCents[d]!), s.day.okCalls[d]!, s.day.failedCalls[d]!, formatCents(rate)]);
  }
}

function* staticRows(seed: number, cal: Calendar, table: 'faqs' | 'system_prompts'): Generator<string> {
  const r = new Rng(seed, STREAM_STATIC, table === 'faqs' ? 2 : 3);
  const at = ts(cal.startMs - 30 * DAY_MS);
  if (table === 'faqs') {
    const faqs: [string, string, string][] = [
      ['pricing', 'How much does wash & fold cost?', '$18.99 per load plus a $5.99 pickup fee.'],
      ['pricing', 'Do you charge for pickup?', 'Pickup is $5.99 for wash & fold and free for bedding.'],
      ['scheduling', 'When can you pick up?', 'Every day between 9 AM and 6 PM.'],
      ['scheduling', 'Can I cancel a booking?', 'Yes, reply C to your confirmation text; prepaid bookings are refunded.'],
      ['service', 'Do you do commercial laundry?', 'Yes, our team will set up a recurring schedule for you.'],
    ];
    for (let k = 0; k < faqs.length; k++) {
      const [category, q, a] = faqs[k]!;
      yield csvRow([uuid(r), 'default', category, q, a, `{${category}}`, true, k, r.int(0, 500), at, at]);
    }
  } else {
    yield csvRow([uuid(r), 'default', 'voice', `You are the phone assistant of ${BUSINESS}. Book pickups; transfer to staff for commercial accounts or complaints.`, 'v1.0.0', false, at, at]);
    yield csvRow([uuid(r), 'default', 'voice', `You are the phone assistant of ${BUSINESS}. Book pickups, quote prices from the FAQ; transfer to staff for commercial accounts or complaints.`, 'v1.1.0', true, at, at]);
    yield csvRow([uuid(r), 'default', 'sms', `You answer texts for ${BUSINESS}. Keep replies short; book pickups.`, 'v1.0.0', true, at, at]);
  }
}

// ---------------------------------------------------------------------------------------------

const COLUMNS = {
  customers: ['id', 'created_at', 'updated_at', 'name', 'phone', 'email', 'total_bookings', 'total_calls', 'last_contact', 'notes', 'tags', 'address', 'total_spent'],
  bookings: ['id', 'created_at', 'updated_at', 'customer_name', 'customer_phone', 'customer_email', 'service_type', 'appointment_date', 'appointment_time',
    'status', 'source', 'notes', 'reminder_sent', 'confirmation_sent', 'title', 'scheduled_at', 'duration_minutes', 'pickup_address', 'payment_amount',
    'payment_currency', 'payment_status', 'number_of_loads'],
  calls: ['id', 'created_at', 'updated_at', 'phone_number', 'customer_name', 'duration', 'status', 'call_type', 'recording_url', 'transcript', 'cost', 'notes', 'sentiment', 'booking_id'],
  sms_messages: ['id', 'created_at', 'phone_number', 'direction', 'message_body', 'status', 'booking_id', 'cost'],
  analytics: ['id', 'date', 'total_calls', 'total_bookings', 'total_sms', 'total_cost', 'successful_calls', 'failed_calls', 'conversion_rate'],
  faqs: ['id', 'client_id', 'category', 'question', 'answer', 'keywords', 'is_active', 'display_order', 'usage_count', 'created_at', 'updated_at'],
  system_prompts: ['id', 'client_id', 'prompt_type', 'system_prompt', 'prompt_version', 'is_active', 'created_at', 'updated_at'],
} as const;

/** The true conversion of the AI: voice (AI-only calls) and SMS threads pooled by their expected shares. */
function aiConversion(): number {
  const voiceAi = VOICE_SHARE * AI_ANSWER_SHARE * (1 - TRANSFER_PROBABILITY);
  const sms = 1 - VOICE_SHARE;
  return (voiceAi * CONVERSION.ai_voice + sms * CONVERSION.ai_sms) / (voiceAi + sms);
}

export const generateVoiceBooking: ProfileGenerator = async (client: pg.ClientBase, opts: ProfileGenerateOptions): Promise<ProfileTruth> => {
  const seed = opts.seed ?? 42;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const target = positiveInt('orders', opts.orders ?? 20_000);
  const days = positiveInt('days', opts.days ?? 365);
  const cal = new Calendar(utcMidnight(opts.end ?? new Date()), days);
  const sim = new CustomerSim(seed, cal);
  const s = scan(sim, cal, target);
  const N = s.customers;

  await client.query("SET TimeZone = 'UTC'");
  const tables: Record<string, number> = {};
  const copy = async (table: keyof typeof COLUMNS, rows: Iterable<string>): Promise<void> => {
    tables[table] = await copyRows(client, table, COLUMNS[table], rows);
  };
  // bookings before calls and SMS: both reference it.
  await copy('customers', customerRows(sim, N));
  await copy('bookings', bookingRows(sim, N));
  await copy('calls', callRows(sim, N));
  await copy('sms_messages', smsRows(sim, N));
  await copy('analytics', analyticsRows(seed, cal, s));
  await copy('faqs', staticRows(seed, cal, 'faqs'));
  await copy('system_prompts', staticRows(seed, cal, 'system_prompts'));

  const dollars = (cents: number) => Math.round(cents) / 100;
  const closer = (conversion: number, mix: readonly number[]): CloserTruth => ({ conversion, aov: dollars(expectedAmountCents(mix)) });
  return {
    generator: 'voice-booking',
    seed,
    start: isoString(cal.startMs),
    end: isoString(cal.endMs),
    currency: 'USD',
    tenants: ['default'],
    orders: s.bookings,
    closers: { ai: closer(aiConversion(), AI_MIX), human: closer(CONVERSION.human, HUMAN_MIX) },
    extra: {
      contact_process: { model: 'BG/NBD in operational time (contacts, not bookings)', ...CONTACT_PROCESS, time_unit: 'operational day' },
      channel: { voice_share: VOICE_SHARE, ai_answer_share: AI_ANSWER_SHARE, transfer_probability: TRANSFER_PROBABILITY, failed_attempt_probability: FAILED_ATTEMPT_PROBABILITY },
      conversion: { ...CONVERSION },
      escalation_rate_of_ai_calls: TRANSFER_PROBABILITY,
      aov_by_source: {
        voice: dollars(expectedAmountCents(AI_MIX)),
        sms: dollars(expectedAmountCents(AI_MIX)),
        manual: dollars(expectedAmountCents(HUMAN_MIX)),
      },
      services: SERVICES.map((x) => ({ name: x.name, fee: dollars(x.feeCents), per_load: dollars(x.perLoadCents), loads_mean: x.loadsMean, minutes: x.minutes, mix_ai: x.ai, mix_human: x.human })),
      first_response_seconds: { ai_call: 'uniform integer 1..3', staff_call: '4 + round(Gamma(shape 2, scale 8)), mean 20', sms: 'uniform integer 3..25', means: { ai_call: 2, staff_call: 20, sms: 14 } },
      call_seconds: { ...CALL_SECONDS },
      outcome: { prepay: PREPAY, cancel: CANCEL, no_show_given_not_cancelled: NO_SHOW, pay_at_service: { ...PAY_AT_SERVICE }, prepay_failed_future: PREPAY_FAILED,
        cancelled_share_of_past_appointments: CANCEL, no_show_share_of_past_appointments: (1 - CANCEL) * NO_SHOW },
      costs: { call_cents_per_started_minute: CALL_CENTS_PER_MINUTE, sms_cents: SMS_CENTS },
      sms_thread_gap_hours: 6,
      realised: { customers: N, bookings: s.bookings, by_source: s.bookingsBySource, by_status: s.bookingsByStatus, conversations: s.conversations, calls: s.calls, sms: s.sms },
      tables,
    },
  };
};
