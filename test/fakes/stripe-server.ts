/**
 * A local HTTP server that speaks Stripe's v1 list/retrieve API closely enough for the real `stripe`
 * SDK (auto-pagination included) to run against it. It is the project's only fake: it should behave
 * like Stripe, including its errors, so that code tested against it works against the real thing.
 *
 * What it serves (GET only): `/v1/{payment_intents,charges,refunds,invoices,subscriptions,events,
 * disputes,customers}` and `/v1/<resource>/<id>`. Everything else is a Stripe-shaped 404.
 *
 * Wire format, as the SDK (v23) sends it: a GET carries its params form-encoded in the query string,
 * nested with brackets and arrays indexed — `created[gte]=1700000000&limit=100&types[0]=a&types[1]=b&
 * expand[0]=data.customer` (brackets left unescaped). `types[]=a` (other clients) is accepted too.
 * The SDK's auto-pagination repeats the first request's params with `starting_after=<last id>` (or
 * `ending_before=<first id>` when iterating backwards from an `ending_before`).
 *
 * Behaviour copied from Stripe:
 * - auth: `Authorization: Bearer <key>` (or Basic with the key as user); else 401.
 * - lists: newest first (created DESC, then id DESC); `limit` 1..100, default 10; cursors are
 *   positions of the cursor object, so a cursor outside the current filter still works, and an
 *   unknown cursor is a 400 resource_missing; a response is `{object:'list', data, has_more, url}`.
 * - unknown params are a 400 `parameter_unknown` naming the param (so a filter Stripe does not have
 *   is caught here, not silently ignored); malformed integers a 400 naming the param.
 * - `expand`: includable properties (Invoice.payments, Charge.refunds) are sent only when expanded;
 *   an id reference is expanded when the object is in the store, and left an id otherwise. On a list
 *   an expansion must start with `data.` as on Stripe.
 * - subscriptions: no `status` hides canceled ones only (the SDK's doc of `status`: "If no value is
 *   supplied, all subscriptions that have not been canceled are returned"); `all`; `ended` =
 *   canceled + incomplete_expired; or one status.
 * - events: only the last 30 days (by the fake's clock `now()`) can be listed or retrieved; `type`
 *   with `*` wildcards, or `types` (not both), `delivery_success`.
 * - every response: `Request-Id`, `Content-Type: application/json`, `Stripe-Version` (the request's,
 *   else the SDK's pinned version).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export interface FakeStripeStore {
  payment_intents: Stripe.PaymentIntent[];
  charges: Stripe.Charge[];
  refunds: Stripe.Refund[];
  invoices: Stripe.Invoice[];
  subscriptions: Stripe.Subscription[];
  events: Stripe.Event[];
  disputes: Stripe.Dispute[];
  customers: Stripe.Customer[];
}

export interface FakeStripeRequest {
  method: string;
  /** The path without its query string, e.g. `/v1/payment_intents`. */
  path: string;
  /** The query string parsed with bracket notation into nested objects/arrays. */
  query: Record<string, unknown>;
  status: number;
  /** Wall-clock time the response was sent (ms since the epoch). */
  at: number;
}

export interface FakeStripe {
  /** e.g. http://127.0.0.1:54321 */
  url: string;
  host: string;
  port: number;
  /** The only accepted secret key. */
  apiKey: string;
  /** Mutable: tests add/replace objects between runs (arrays are read afresh on every request). */
  store: FakeStripeStore;
  /** The fake's clock in unix seconds: fixed once set (or given to startFakeStripe), else real time. */
  now: () => number;
  setNow(seconds: number): void;
  /** Every request served, in order. */
  requests: FakeStripeRequest[];
  /** The next `count` requests (optionally only those whose path starts with `pathPrefix`) answer `status` instead. */
  failNext(count: number, status: 429 | 500 | 503, opts?: { pathPrefix?: string; shouldRetry?: boolean; retryAfter?: number }): void;
  /** A client for this server: the real SDK pointed at it (host/port/protocol http), with `maxNetworkRetries` as given (default 0). */
  client(opts?: { maxNetworkRetries?: number }): Stripe;
  close(): Promise<void>;
}

type ResourceName = keyof FakeStripeStore;
type Obj = { id: string; created: number } & Record<string, unknown>;

/** Events older than this are gone from the API. */
const EVENT_RETENTION_SECONDS = 30 * 86_400;

// ---------------------------------------------------------------------------------------------
// Errors

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { type: string; message: string; code?: string; param?: string; doc_url?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

const invalid = (message: string, param?: string, code?: string): ApiError =>
  new ApiError(400, { type: 'invalid_request_error', message, ...(code ? { code, doc_url: `https://docs.stripe.com/error-codes/${code.replaceAll('_', '-')}` } : {}), ...(param ? { param } : {}) });

const unknownParam = (param: string): ApiError => invalid(`Received unknown parameter: ${param}`, param, 'parameter_unknown');

const noSuch = (status: number, objectName: string, id: string, param: string): ApiError =>
  new ApiError(status, { type: 'invalid_request_error', code: 'resource_missing', doc_url: 'https://docs.stripe.com/error-codes/resource-missing', message: `No such ${objectName}: '${id}'`, param });

// ---------------------------------------------------------------------------------------------
// Query parsing: `a[b][0]=x&c[]=y` → { a: { b: ['x'] }, c: ['y'] }

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

export function parseQuery(qs: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const decode = (s: string): string => {
      try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
    };
    const rawKey = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    const segs = m ? [m[1]!, ...[...m[2]!.matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1]!)] : [rawKey];
    if (segs.some((s) => FORBIDDEN_KEYS.has(s))) continue;
    let node: Record<string, unknown> = root;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      const last = i === segs.length - 1;
      if (seg === '') {
        // `[]`: append. Represent as the next numeric key; arrays are made at the end.
        const key = String(Object.keys(node).length);
        if (last) node[key] = value;
        else node = (node[key] = {}) as Record<string, unknown>;
        continue;
      }
      if (last) { node[seg] = value; break; }
      const next = node[seg];
      node = (typeof next === 'object' && next !== null ? next : (node[seg] = {})) as Record<string, unknown>;
    }
  }
  return toArrays(root) as Record<string, unknown>;
}

/** Objects whose keys are exactly 0..n-1 become arrays. */
function toArrays(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = toArrays(o[k]);
  const keys = Object.keys(o);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    const idx = keys.map(Number).sort((a, b) => a - b);
    if (idx.every((n, i) => n === i)) return idx.map((n) => o[String(n)]);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Param readers (throwing Stripe's 400s)

const isBlank = (raw: unknown): boolean => raw === undefined || raw === '';

function str(raw: unknown, param: string): string {
  if (typeof raw !== 'string') throw invalid(`Invalid string: ${JSON.stringify(raw)}`, param);
  return raw;
}

function int(raw: unknown, param: string): number {
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw.trim())) throw invalid(`Invalid integer: ${typeof raw === 'string' ? raw : JSON.stringify(raw)}`, param);
  return Number(raw);
}

function bool(raw: unknown, param: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalid(`Invalid boolean: ${typeof raw === 'string' ? raw : JSON.stringify(raw)}`, param);
}

function strArray(raw: unknown, param: string): string[] {
  if (!Array.isArray(raw)) throw invalid('Invalid array', param);
  return raw.map((x, i) => str(x, `${param}[${i}]`));
}

/** `created=123` (exact) or `created[gt|gte|lt|lte]=…`. */
function range(raw: unknown, param: string): (n: number | null | undefined) => boolean {
  if (typeof raw === 'string') {
    const v = int(raw, param);
    return (n) => n === v;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`Invalid ${param}`, param);
  const tests: Array<(n: number) => boolean> = [];
  for (const [k, v] of Object.entries(raw)) {
    if (isBlank(v)) continue;
    const x = int(v, `${param}[${k}]`);
    if (k === 'gt') tests.push((n) => n > x);
    else if (k === 'gte') tests.push((n) => n >= x);
    else if (k === 'lt') tests.push((n) => n < x);
    else if (k === 'lte') tests.push((n) => n <= x);
    else throw unknownParam(`${param}[${k}]`);
  }
  return (n) => typeof n === 'number' && tests.every((t) => t(n));
}

function oneOf(raw: unknown, param: string, allowed: readonly string[]): string {
  const v = str(raw, param);
  if (!allowed.includes(v)) throw invalid(`Invalid ${param}: must be one of ${allowed.join(', ')}`, param);
  return v;
}

const idOf = (ref: unknown): string | null =>
  typeof ref === 'string' ? ref : typeof ref === 'object' && ref !== null && typeof (ref as { id?: unknown }).id === 'string' ? (ref as { id: string }).id : null;

// ---------------------------------------------------------------------------------------------
// Resources

type Predicate = (o: Obj) => boolean;
/** Reads one list param (already known to be present and non-blank) into a predicate, or throws a 400. */
type Filter = (raw: unknown, param: string) => Predicate;

interface ResourceSpec {
  /** Stripe's name for the object, as in "No such payment_intent: 'pi_…'". */
  objectName: string;
  /** The param Stripe names when a retrieve finds nothing. */
  idParam: string;
  filters: Record<string, Filter>;
  /** Properties sent only when expanded. */
  includable?: string[];
}

const eq = (get: (o: Obj) => unknown): Filter => (raw, param) => {
  const v = str(raw, param);
  return (o) => idOf(get(o)) === v;
};
const rangeOf = (get: (o: Obj) => number | null | undefined): Filter => (raw, param) => {
  const test = range(raw, param);
  return (o) => test(get(o));
};
const created = rangeOf((o) => o.created);

const SUBSCRIPTION_STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'] as const;
const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;

type SubItems = { items?: { data?: Array<{ current_period_end?: number; current_period_start?: number; price?: unknown; plan?: unknown }> } };
const subItems = (o: Obj) => (o as SubItems).items?.data ?? [];
const minOf = (xs: Array<number | undefined>): number | null => { const v = xs.filter((x): x is number => typeof x === 'number'); return v.length ? Math.min(...v) : null; };
const maxOf = (xs: Array<number | undefined>): number | null => { const v = xs.filter((x): x is number => typeof x === 'number'); return v.length ? Math.max(...v) : null; };

const RESOURCES: Record<ResourceName, ResourceSpec> = {
  payment_intents: {
    objectName: 'payment_intent', idParam: 'intent',
    filters: { created, customer: eq((o) => o.customer), customer_account: eq((o) => o.customer_account) },
  },
  charges: {
    objectName: 'charge', idParam: 'id', includable: ['refunds'],
    filters: { created, customer: eq((o) => o.customer), payment_intent: eq((o) => o.payment_intent), transfer_group: eq((o) => o.transfer_group) },
  },
  refunds: {
    objectName: 'refund', idParam: 'id',
    filters: { created, charge: eq((o) => o.charge), payment_intent: eq((o) => o.payment_intent) },
  },
  disputes: {
    objectName: 'dispute', idParam: 'dispute',
    filters: { created, charge: eq((o) => o.charge), payment_intent: eq((o) => o.payment_intent) },
  },
  customers: {
    objectName: 'customer', idParam: 'customer',
    filters: { created, email: eq((o) => o.email), test_clock: eq((o) => o.test_clock) },
  },
  invoices: {
    objectName: 'invoice', idParam: 'invoice', includable: ['payments'],
    filters: {
      created,
      customer: eq((o) => o.customer),
      customer_account: eq((o) => o.customer_account),
      collection_method: (raw, p) => { const v = oneOf(raw, p, ['charge_automatically', 'send_invoice']); return (o) => o.collection_method === v; },
      due_date: rangeOf((o) => o.due_date as number | null),
      status: (raw, p) => { const v = oneOf(raw, p, INVOICE_STATUSES); return (o) => o.status === v; },
      // API 2025+: an invoice's subscription is parent.subscription_details.subscription.
      subscription: eq((o) => (o as { parent?: { subscription_details?: { subscription?: unknown } | null } | null }).parent?.subscription_details?.subscription),
    },
  },
  subscriptions: {
    objectName: 'subscription', idParam: 'id',
    filters: {
      created,
      customer: eq((o) => o.customer),
      customer_account: eq((o) => o.customer_account),
      collection_method: (raw, p) => { const v = oneOf(raw, p, ['charge_automatically', 'send_invoice']); return (o) => o.collection_method === v; },
      // "whose minimum item current_period_end" / "maximum item current_period_start" (SubscriptionListParams)
      current_period_end: rangeOf((o) => minOf(subItems(o).map((i) => i.current_period_end))),
      current_period_start: rangeOf((o) => maxOf(subItems(o).map((i) => i.current_period_start))),
      price: (raw, p) => { const v = str(raw, p); return (o) => subItems(o).some((i) => idOf(i.price) === v); },
      plan: (raw, p) => { const v = str(raw, p); return (o) => subItems(o).some((i) => idOf(i.plan) === v); },
      test_clock: eq((o) => o.test_clock),
      automatic_tax: (raw, p) => {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`Invalid ${p}`, p);
        const { enabled, ...others } = raw as Record<string, unknown>;
        const unknown = Object.keys(others)[0];
        if (unknown !== undefined) throw unknownParam(`${p}[${unknown}]`);
        const v = bool(enabled, `${p}[enabled]`);
        return (o) => Boolean((o.automatic_tax as { enabled?: boolean } | undefined)?.enabled) === v;
      },
      status: (raw, p) => {
        const v = oneOf(raw, p, SUBSCRIPTION_STATUSES);
        if (v === 'all') return () => true;
        if (v === 'ended') return (o) => o.status === 'canceled' || o.status === 'incomplete_expired';
        return (o) => o.status === v;
      },
    },
  },
  events: {
    objectName: 'event', idParam: 'id',
    filters: {
      created,
      type: (raw, p) => {
        const v = str(raw, p);
        const re = new RegExp(`^${v.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
        return (o) => typeof o.type === 'string' && re.test(o.type);
      },
      types: (raw, p) => {
        const v = strArray(raw, p);
        if (v.length > 20) throw invalid('You may pass at most 20 event types in `types`.', p);
        const set = new Set(v);
        return (o) => typeof o.type === 'string' && set.has(o.type);
      },
      delivery_success: (raw, p) => { const v = bool(raw, p); return (o) => (o.pending_webhooks === 0) === v; },
    },
  },
};

const PAGINATION_PARAMS = new Set(['limit', 'starting_after', 'ending_before', 'expand']);

/** Newest first; ties by id, descending, so the order is total and stable. */
const order = (a: Obj, b: Obj): number => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

// ---------------------------------------------------------------------------------------------

export async function startFakeStripe(opts: { store?: Partial<FakeStripeStore>; apiKey?: string; now?: number } = {}): Promise<FakeStripe> {
  const apiKey = opts.apiKey ?? 'sk_test_fake_0123456789abcdefghijklmn';
  const store: FakeStripeStore = {
    payment_intents: [], charges: [], refunds: [], invoices: [], subscriptions: [], events: [], disputes: [], customers: [],
    ...opts.store,
  };
  let fixedNow: number | undefined = opts.now;
  const now = (): number => fixedNow ?? Math.floor(Date.now() / 1000);
  const requests: FakeStripeRequest[] = [];
  const failures: Array<{ remaining: number; status: number; pathPrefix?: string; shouldRetry?: boolean; retryAfter?: number }> = [];
  let requestSeq = 0;

  /** What the API can see of a resource now (events expire). */
  const visible = (name: ResourceName): Obj[] => {
    const all = fake.store[name] as unknown as Obj[];
    if (name !== 'events') return all;
    const oldest = now() - EVENT_RETENTION_SECONDS;
    return all.filter((e) => e.created >= oldest);
  };

  const findAnywhere = (id: string): Obj | undefined => {
    for (const name of Object.keys(RESOURCES) as ResourceName[]) {
      const hit = visible(name).find((o) => o.id === id);
      if (hit) return hit;
    }
    return undefined;
  };

  /** A wire copy of `obj` (JSON, as Stripe would send it), with includables and expansions applied. */
  function render(name: ResourceName, obj: Obj, expand: string[]): Record<string, unknown> {
    const out = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
    for (const field of RESOURCES[name].includable ?? []) {
      if (!expand.some((p) => p === field || p.startsWith(`${field}.`))) delete out[field];
    }
    for (const path of expand) expandPath(out, path.split('.'));
    return out;
  }

  function expandPath(node: unknown, segs: string[]): void {
    if (segs.length === 0 || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) { for (const x of node) expandPath(x, segs); return; }
    const o = node as Record<string, unknown>;
    const [seg, ...rest] = segs as [string, ...string[]];
    let v = o[seg];
    if (typeof v === 'string') {
      const target = findAnywhere(v);
      if (!target) return; // not in the store: stays an id
      const kind = (Object.keys(RESOURCES) as ResourceName[]).find((n) => visible(n).includes(target))!;
      v = o[seg] = render(kind, target, []);
    }
    expandPath(v, rest);
  }

  function expandParam(q: Record<string, unknown>): string[] {
    const raw = q.expand;
    if (isBlank(raw)) return [];
    const paths = typeof raw === 'string' ? [raw] : strArray(raw, 'expand');
    for (const p of paths) if (p.split('.').length > 4) throw invalid(`You cannot expand more than 4 levels of a property. Property: ${p}`, 'expand');
    return paths;
  }

  function list(name: ResourceName, q: Record<string, unknown>): unknown {
    const spec = RESOURCES[name];
    for (const key of Object.keys(q)) if (!PAGINATION_PARAMS.has(key) && !(key in spec.filters)) throw unknownParam(key);
    if (name === 'events' && !isBlank(q.type) && !isBlank(q.types)) throw invalid('You may pass either `type` or `types`, but not both.', 'types');

    let limit = 10;
    if (!isBlank(q.limit)) {
      limit = int(q.limit, 'limit');
      if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100', 'limit', 'parameter_invalid_integer');
    }
    const after = isBlank(q.starting_after) ? undefined : str(q.starting_after, 'starting_after');
    const before = isBlank(q.ending_before) ? undefined : str(q.ending_before, 'ending_before');
    if (after !== undefined && before !== undefined) throw invalid('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');

    const expandAll = expandParam(q);
    for (const p of expandAll) {
      if (!p.startsWith('data.')) throw invalid(`This property cannot be expanded (${p}). You may want to try expanding 'data.${p}' instead.`, 'expand');
    }
    const expand = expandAll.map((p) => p.slice('data.'.length));

    const predicates: Predicate[] = [];
    for (const [key, filter] of Object.entries(spec.filters)) if (!isBlank(q[key])) predicates.push(filter(q[key], key));
    if (name === 'subscriptions' && isBlank(q.status)) predicates.push((o) => o.status !== 'canceled');

    const pool = visible(name);
    const cursorOf = (id: string, param: string): Obj => {
      const c = pool.find((o) => o.id === id);
      if (!c) throw noSuch(400, spec.objectName, id, param);
      return c;
    };
    let rows = pool.filter((o) => predicates.every((p) => p(o))).sort(order);
    let page: Obj[];
    let hasMore: boolean;
    if (before !== undefined) {
      const c = cursorOf(before, 'ending_before');
      rows = rows.filter((o) => order(o, c) < 0); // newer than the cursor
      page = rows.slice(Math.max(0, rows.length - limit)); // the `limit` nearest the cursor, still newest first
      hasMore = rows.length > limit;
    } else {
      if (after !== undefined) {
        const c = cursorOf(after, 'starting_after');
        rows = rows.filter((o) => order(o, c) > 0); // older than the cursor
      }
      page = rows.slice(0, limit);
      hasMore = rows.length > limit;
    }
    return { object: 'list', data: page.map((o) => render(name, o, expand)), has_more: hasMore, url: `/v1/${name}` };
  }

  function retrieve(name: ResourceName, id: string, q: Record<string, unknown>): unknown {
    for (const key of Object.keys(q)) if (key !== 'expand') throw unknownParam(key);
    const expand = expandParam(q);
    const obj = visible(name).find((o) => o.id === id);
    if (!obj) throw noSuch(404, RESOURCES[name].objectName, id, RESOURCES[name].idParam);
    return render(name, obj, expand);
  }

  function authenticate(header: string | undefined): void {
    const missing = new ApiError(401, {
      type: 'invalid_request_error',
      message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://docs.stripe.com/api#authentication for details, or we can help at https://support.stripe.com/.",
    }, { 'WWW-Authenticate': 'Basic realm="Stripe"' });
    if (!header) throw missing;
    let key: string | undefined;
    const [scheme, cred = ''] = header.split(/\s+/, 2) as [string, string | undefined];
    if (/^bearer$/i.test(scheme)) key = cred;
    else if (/^basic$/i.test(scheme)) key = Buffer.from(cred, 'base64').toString('utf8').split(':')[0];
    if (!key) throw missing;
    if (key !== fake.apiKey) {
      const masked = key.length > 4 ? `${key.slice(0, Math.min(8, key.length - 4))}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : key;
      throw new ApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${masked}` }, { 'WWW-Authenticate': 'Basic realm="Stripe"' });
    }
  }

  const server = http.createServer((req, res) => {
    req.resume(); // GETs carry no body; drain whatever comes
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const qi = rawUrl.indexOf('?');
    const path = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const query = parseQuery(qi < 0 ? '' : rawUrl.slice(qi + 1));
    requestSeq++;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Request-Id': `req_fake${String(requestSeq).padStart(10, '0')}`,
      'Stripe-Version': (req.headers['stripe-version'] as string | undefined) ?? Stripe.API_VERSION,
    };
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(body, null, 2);
      res.writeHead(status, { ...headers, ...extra, 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
      fake.requests.push({ method, path, query, status, at: Date.now() });
    };

    const failure = failures.find((f) => f.remaining > 0 && (f.pathPrefix === undefined || path.startsWith(f.pathPrefix)));
    if (failure) {
      failure.remaining--;
      if (failure.remaining === 0) failures.splice(failures.indexOf(failure), 1);
      const extra: Record<string, string> = {};
      if (failure.shouldRetry !== undefined) extra['Stripe-Should-Retry'] = String(failure.shouldRetry);
      if (failure.retryAfter !== undefined) extra['Retry-After'] = String(failure.retryAfter);
      const error = failure.status === 429
        ? { type: 'rate_limit_error', code: 'rate_limit', message: 'Too many requests', doc_url: 'https://docs.stripe.com/error-codes/rate-limit' }
        : { type: 'api_error', message: "Sorry, something went wrong. We've already been notified of the problem." };
      send(failure.status, { error }, extra);
      return;
    }

    try {
      authenticate(req.headers.authorization);
      const m = /^\/v1\/([a-z_]+)(?:\/([^/]+))?$/.exec(path);
      const name = m?.[1] as ResourceName | undefined;
      if (method !== 'GET' || !m || !name || !Object.hasOwn(RESOURCES, name)) {
        throw new ApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}). Please see https://docs.stripe.com or we can help at https://support.stripe.com/. (This fake serves GET list and retrieve of ${Object.keys(RESOURCES).join(', ')}.)` });
      }
      const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
      send(200, id === undefined ? list(name, query) : retrieve(name, id, query));
    } catch (e) {
      if (e instanceof ApiError) send(e.status, { error: e.body }, e.headers);
      else send(500, { error: { type: 'api_error', message: `Fake Stripe failed: ${(e as Error).message}` } });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const host = '127.0.0.1';

  const fake: FakeStripe = {
    url: `http://${host}:${port}`,
    host,
    port,
    apiKey,
    store,
    now,
    setNow(seconds) { fixedNow = seconds; },
    requests,
    failNext(count, status, o = {}) {
      if (count > 0) failures.push({ remaining: count, status, ...o });
    },
    client(o = {}) {
      return new Stripe(apiKey, { host, port, protocol: 'http', maxNetworkRetries: o.maxNetworkRetries ?? 0 });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
