/**
 * Factories for well-formed Stripe API objects, typed with the SDK's own types (stripe v23, API
 * version 2026-10-28.endive) so that a field the SDK no longer has fails to compile here first.
 *
 * Each factory takes a partial override; what is not given gets a realistic default that agrees with
 * the object's status (a succeeded PaymentIntent has amount_received = amount, a canceled one a
 * canceled_at, a failed charge a failure_code, ...). Ids are deterministic (`stripeId`).
 *
 * Shapes worth knowing in this API version (they are what the real API returns, not our choice):
 * - PaymentIntent has no `invoice` and Charge has no `dispute`: both were removed from the API.
 *   Use Invoice.payments / Dispute.charge (and Charge.disputed) instead.
 * - Invoice has no top-level `subscription` or `payment_intent`. The subscription is at
 *   `parent.subscription_details.subscription` (parent.type 'subscription_details'), the payment
 *   intent at `payments.data[].payment.payment_intent` (an InvoicePayment list). `payments` is an
 *   *includable* property: the API (and the fake server) sends it only when asked for with
 *   `expand: ['payments']` (`'data.payments'` on a list). Charge.refunds is includable the same way.
 * - Subscription has no `current_period_start/end`: they live on each subscription item.
 */
import Stripe from 'stripe';

/** `stripeId('pi', 1)` → `pi_000000000001` (the prefix may be given with or without its `_`). */
export function stripeId(prefix: string, n: number): string {
  return `${prefix.replace(/_$/, '')}_${String(n).padStart(12, '0')}`;
}

const counters = new Map<string, number>();
/** The next deterministic id for a prefix (per process); used when a factory is given no id. */
export function nextStripeId(prefix: string): string {
  const n = (counters.get(prefix) ?? 0) + 1;
  counters.set(prefix, n);
  return stripeId(prefix, n);
}

/** The API version every object and event is rendered in. */
export const API_VERSION: string = Stripe.API_VERSION;

const DAY = 86_400;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const idOf = (ref: string | { id: string } | null | undefined): string | null =>
  ref == null ? null : typeof ref === 'string' ? ref : ref.id;

/** Seconds in `count` billing intervals (calendar-free: a month is 30 days, a year 365). */
export function intervalSeconds(interval: string, count = 1): number {
  const per = interval === 'day' ? DAY : interval === 'week' ? 7 * DAY : interval === 'year' ? 365 * DAY : 30 * DAY;
  return per * count;
}

function list<T>(data: T[], url: string): Stripe.ApiList<T> {
  return { object: 'list', data, has_more: false, url };
}

// ---------------------------------------------------------------------------------------------
// Payments

export function paymentIntent(o: Partial<Stripe.PaymentIntent> = {}): Stripe.PaymentIntent {
  const id = o.id ?? nextStripeId('pi');
  const status = o.status ?? 'succeeded';
  const amount = o.amount ?? 2000;
  const created = o.created ?? nowSeconds();
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount,
    amount_capturable: status === 'requires_capture' ? amount : 0,
    amount_received: status === 'succeeded' ? amount : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: { allow_redirects: 'always', enabled: true },
    canceled_at: status === 'canceled' ? created + 3600 : null,
    cancellation_reason: status === 'canceled' ? 'requested_by_customer' : null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_fake`,
    confirmation_method: 'automatic',
    created,
    currency: 'usd',
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: status === 'requires_payment_method' ? null : `pm_${id.slice(3)}`,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
    ...o,
  };
}

/** A card-declined `last_payment_error`, as on a PaymentIntent back in requires_payment_method. */
export function cardDeclined(charge?: string): Stripe.PaymentIntent.LastPaymentError {
  return {
    ...(charge ? { charge } : {}),
    code: 'card_declined',
    decline_code: 'generic_decline',
    doc_url: 'https://docs.stripe.com/error-codes/card-declined',
    message: 'Your card was declined.',
    type: 'card_error',
  };
}

export function charge(o: Partial<Stripe.Charge> = {}): Stripe.Charge {
  const id = o.id ?? nextStripeId('ch');
  const status = o.status ?? 'succeeded';
  const amount = o.amount ?? 2000;
  const succeeded = status === 'succeeded';
  const captured = o.captured ?? succeeded;
  const amountRefunded = o.amount_refunded ?? 0;
  const failed = status === 'failed';
  return {
    id,
    object: 'charge',
    amount,
    amount_captured: captured ? amount : 0,
    amount_refunded: amountRefunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: succeeded ? `txn_${id.slice(3)}` : null,
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'PRICECAST',
    captured,
    created: o.created ?? nowSeconds(),
    currency: 'usd',
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: failed ? 'card_declined' : null,
    failure_message: failed ? 'Your card was declined.' : null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: status === 'pending' ? null : {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: failed ? 'declined_by_network' : 'approved_by_network',
      reason: failed ? 'generic_decline' : null,
      risk_level: 'normal',
      seller_message: failed ? 'The bank did not return any further details with this decline.' : 'Payment complete.',
      type: failed ? 'issuer_declined' : 'authorized',
    },
    paid: succeeded,
    payment_intent: null,
    payment_method: `pm_${id.slice(3)}`,
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: amountRefunded > 0 && amountRefunded >= amount,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
    ...o,
  };
}

export function refund(o: Partial<Stripe.Refund> = {}): Stripe.Refund {
  const id = o.id ?? nextStripeId('re');
  const status = o.status ?? 'succeeded';
  return {
    id,
    object: 'refund',
    amount: 1000,
    balance_transaction: status === 'succeeded' ? `txn_${id.slice(3)}` : null,
    charge: null,
    created: o.created ?? nowSeconds(),
    currency: 'usd',
    customer: null,
    customer_account: null,
    metadata: {},
    payment_intent: null,
    payment_method: null,
    reason: null,
    receipt_number: null,
    source_transfer_reversal: null,
    status,
    transfer_reversal: null,
    ...(status === 'failed' ? { failure_reason: 'expired_or_canceled_card' } : {}),
    ...o,
  };
}

/** Dispute ids default to the current `du_` prefix (older disputes are `dp_`; both are valid). */
export function dispute(o: Partial<Stripe.Dispute> = {}): Stripe.Dispute {
  const id = o.id ?? nextStripeId('du');
  const status = o.status ?? 'needs_response';
  const created = o.created ?? nowSeconds();
  return {
    id,
    object: 'dispute',
    amount: 2000,
    balance_transactions: [],
    charge: o.charge ?? nextStripeId('ch'),
    created,
    currency: 'usd',
    enhanced_eligibility_types: [],
    evidence: {
      access_activity_log: null, billing_address: null, cancellation_policy: null, cancellation_policy_disclosure: null,
      cancellation_rebuttal: null, customer_communication: null, customer_email_address: null, customer_name: null,
      customer_purchase_ip: null, customer_signature: null, duplicate_charge_documentation: null,
      duplicate_charge_explanation: null, duplicate_charge_id: null, enhanced_evidence: {}, product_description: null,
      receipt: null, refund_policy: null, refund_policy_disclosure: null, refund_refusal_explanation: null,
      service_date: null, service_documentation: null, shipping_address: null, shipping_carrier: null,
      shipping_date: null, shipping_documentation: null, shipping_tracking_number: null, uncategorized_file: null,
      uncategorized_text: null,
    },
    evidence_details: {
      due_by: created + 21 * DAY,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: 'not_submitted',
    },
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: null,
    reason: 'fraudulent',
    status,
    ...o,
  };
}

export function customer(o: Partial<Stripe.Customer> = {}): Stripe.Customer {
  return {
    id: o.id ?? nextStripeId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: o.created ?? nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    email: null,
    invoice_prefix: 'FAKE0001',
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
    ...o,
  };
}

// ---------------------------------------------------------------------------------------------
// Billing

/** A price's input: `recurring` needs only `interval` (and `interval_count`); `null` makes a one-time price. */
export type PriceInput = Partial<Omit<Stripe.Price, 'recurring'>> & {
  recurring?: (Partial<Stripe.Price.Recurring> & Pick<Stripe.Price.Recurring, 'interval'>) | null;
};

export function price(o: PriceInput = {}): Stripe.Price {
  const recurring: Stripe.Price.Recurring | null = o.recurring === undefined
    ? { interval: 'month', interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' }
    : o.recurring && { interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed', ...o.recurring };
  const unitAmount = o.unit_amount === undefined ? 1000 : o.unit_amount;
  return {
    id: o.id ?? nextStripeId('price'),
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: o.created ?? nowSeconds(),
    currency: 'usd',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: o.product ?? nextStripeId('prod'),
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount,
    unit_amount_decimal: unitAmount === null ? null : Stripe.Decimal.from(unitAmount),
    ...o,
    recurring,
  };
}

/** The legacy Plan the API still renders beside a recurring price on a subscription item. */
export function planOf(p: Stripe.Price): Stripe.Plan {
  return {
    id: p.id,
    object: 'plan',
    active: p.active,
    amount: p.unit_amount,
    amount_decimal: p.unit_amount_decimal,
    billing_scheme: p.billing_scheme,
    created: p.created,
    currency: p.currency,
    interval: p.recurring?.interval ?? 'month',
    interval_count: p.recurring?.interval_count ?? 1,
    livemode: p.livemode,
    metadata: {},
    meter: null,
    nickname: p.nickname,
    product: typeof p.product === 'string' ? p.product : p.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: p.recurring?.usage_type ?? 'licensed',
  };
}

/** A subscription item's input: `price` may be a whole Price or an override for `price()`. */
export type SubscriptionItemInput = Partial<Omit<Stripe.SubscriptionItem, 'price' | 'plan'>> & {
  price?: Stripe.Price | PriceInput;
};

export function subscriptionItem(o: SubscriptionItemInput = {}, sub?: { id: string; start_date: number; currency: string }): Stripe.SubscriptionItem {
  const { price: priceIn, ...rest } = o;
  // A whole Price passes through price() unchanged (its own fields override every default).
  const p = price({ currency: sub?.currency ?? 'usd', ...priceIn });
  const start = o.current_period_start ?? sub?.start_date ?? nowSeconds();
  return {
    id: o.id ?? nextStripeId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created: o.created ?? start,
    current_period_start: start,
    current_period_end: start + intervalSeconds(p.recurring?.interval ?? 'month', p.recurring?.interval_count ?? 1),
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(p),
    price: p,
    quantity: 1,
    subscription: sub?.id ?? o.subscription ?? '',
    tax_rates: [],
    ...rest,
  };
}

export type SubscriptionInput = Partial<Omit<Stripe.Subscription, 'items'>> & {
  /** Simplified items (each becomes a full SubscriptionItem), or a ready ApiList. */
  items?: SubscriptionItemInput[] | Stripe.ApiList<Stripe.SubscriptionItem>;
};

export function subscription(o: SubscriptionInput = {}): Stripe.Subscription {
  const { items: itemsIn, ...rest } = o;
  const id = o.id ?? nextStripeId('sub');
  const status = o.status ?? 'active';
  const created = o.created ?? nowSeconds();
  const startDate = o.start_date ?? created;
  const currency = o.currency ?? 'usd';
  const ended = status === 'canceled' || status === 'incomplete_expired';
  const canceledAt = o.canceled_at !== undefined ? o.canceled_at : ended ? startDate + 30 * DAY : null;
  const trialing = status === 'trialing';
  const items = Array.isArray(itemsIn) || itemsIn === undefined
    ? list((itemsIn ?? [{}]).map((it) => subscriptionItem(it, { id, start_date: startDate, currency })), `/v1/subscription_items?subscription=${id}`)
    : itemsIn;
  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: startDate,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: canceledAt,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: ended ? 'cancellation_requested' : null },
    collection_method: 'charge_automatically',
    created,
    currency,
    customer: o.customer ?? nextStripeId('cus'),
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: o.ended_at !== undefined ? o.ended_at : ended ? canceledAt : null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items,
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: startDate,
    status,
    test_clock: null,
    transfer_data: null,
    trial_end: trialing ? startDate + 14 * DAY : null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: trialing ? startDate : null,
    ...rest,
  };
}

export type InvoiceInput = Partial<Omit<Stripe.Invoice, 'lines'>> & {
  /** Sets `parent` to subscription_details with this subscription. */
  subscription?: string | null;
  /** Sets `payments` to one default InvoicePayment for this PaymentIntent. */
  payment_intent?: string | null;
  /** Line items (each filled by `invoiceLine`), or a ready ApiList; default: one line of amount_due. */
  lines?: Array<Partial<Stripe.InvoiceLineItem>> | Stripe.ApiList<Stripe.InvoiceLineItem>;
};

export function invoiceLine(o: Partial<Stripe.InvoiceLineItem> = {}, inv?: { id: string; currency: string; created: number; subscription: string | null; amount: number }): Stripe.InvoiceLineItem {
  const amount = o.amount ?? inv?.amount ?? 1000;
  const start = inv?.created ?? nowSeconds();
  const sub = inv?.subscription ?? null;
  return {
    id: o.id ?? nextStripeId('il'),
    object: 'line_item',
    amount,
    currency: inv?.currency ?? 'usd',
    description: '1 × Plan (at $10.00 / month)',
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: inv?.id ?? null,
    livemode: false,
    metadata: {},
    parent: sub
      ? { invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: sub, subscription_item: nextStripeId('si') }, type: 'subscription_item_details' }
      : null,
    period: { start, end: sub ? start + 30 * DAY : start },
    pretax_credit_amounts: [],
    pricing: { price_details: { price: nextStripeId('price'), product: nextStripeId('prod') }, type: 'price_details', unit_amount_decimal: Stripe.Decimal.from(amount) },
    quantity: 1,
    quantity_decimal: Stripe.Decimal.from(1),
    subscription: sub,
    subtotal: amount,
    taxes: [],
    ...o,
  };
}

export function invoice(o: InvoiceInput = {}): Stripe.Invoice {
  const { subscription: sub = null, payment_intent: pi = null, lines: linesIn, ...rest } = o;
  const id = o.id ?? nextStripeId('in');
  const status = o.status === undefined ? 'paid' : o.status;
  const created = o.created ?? nowSeconds();
  const currency = o.currency ?? 'usd';
  const amountDue = o.amount_due ?? 1000;
  const amountPaid = o.amount_paid ?? (status === 'paid' ? amountDue : 0);
  const finalized = status !== 'draft';
  const lines = Array.isArray(linesIn) || linesIn === undefined
    ? list((linesIn ?? [{}]).map((l) => invoiceLine(l, { id, currency, created, subscription: sub, amount: amountDue })), `/v1/invoices/${id}/lines`)
    : linesIn;
  const payments: Stripe.ApiList<Stripe.InvoicePayment> | undefined = pi === null ? undefined : list([{
    id: nextStripeId('inpay'),
    object: 'invoice_payment',
    amount_paid: status === 'paid' ? amountPaid : null,
    amount_requested: amountDue,
    created,
    currency,
    invoice: id,
    is_default: true,
    livemode: false,
    payment: { payment_intent: pi, type: 'payment_intent' },
    status: status === 'paid' ? 'paid' : status === 'void' ? 'canceled' : 'open',
    status_transitions: { canceled_at: status === 'void' ? created + 3600 : null, paid_at: status === 'paid' ? created + 3600 : null },
  }], `/v1/invoice_payments?invoice=${id}`);
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Pricecast Test Shop',
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: amountPaid,
    amount_remaining: status === 'void' || status === 'uncollectible' ? amountDue - amountPaid : Math.max(0, amountDue - amountPaid),
    amount_shipping: 0,
    application: null,
    attempt_count: finalized && amountDue > 0 ? 1 : 0,
    attempted: finalized && amountDue > 0,
    auto_advance: status === 'draft' || status === 'open',
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: status === 'draft' ? created + 3600 : null,
    billing_reason: sub ? 'subscription_cycle' : 'manual',
    collection_method: 'charge_automatically',
    created,
    currency,
    custom_fields: null,
    customer: o.customer ?? nextStripeId('cus'),
    customer_account: null,
    customer_address: null,
    customer_email: null,
    customer_name: null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: finalized ? created : null,
    ending_balance: finalized ? 0 : null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: finalized ? `https://invoice.stripe.com/i/fake/${id}` : null,
    invoice_pdf: finalized ? `https://pay.stripe.com/invoice/fake/${id}/pdf` : null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines,
    livemode: false,
    metadata: {},
    next_payment_attempt: status === 'open' ? created + DAY : null,
    number: finalized ? `FAKE0001-${id.slice(-4)}` : null,
    on_behalf_of: null,
    parent: sub ? { quote_details: null, subscription_details: { metadata: {}, subscription: sub }, type: 'subscription_details' } : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    ...(payments ? { payments } : {}),
    period_end: created,
    period_start: sub ? created - 30 * DAY : created,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status,
    status_transitions: {
      finalized_at: finalized ? created : null,
      marked_uncollectible_at: status === 'uncollectible' ? created + DAY : null,
      paid_at: status === 'paid' ? created + 3600 : null,
      voided_at: status === 'void' ? created + DAY : null,
    },
    subtotal: amountDue,
    subtotal_excluding_tax: amountDue,
    test_clock: null,
    total: amountDue,
    total_discount_amounts: [],
    total_excluding_tax: amountDue,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: created,
    ...rest,
  };
}

// ---------------------------------------------------------------------------------------------
// Events

export interface EventInput {
  id?: string;
  /** e.g. 'payment_intent.succeeded' */
  type: string;
  created?: number;
  /** The object as it was when the event happened (data.object). */
  object: { object: string; id: string } & object;
  previous_attributes?: Record<string, unknown>;
  pending_webhooks?: number;
}

export function event(o: EventInput): Stripe.Event {
  const e = {
    id: o.id ?? nextStripeId('evt'),
    object: 'event',
    api_version: API_VERSION,
    created: o.created ?? nowSeconds(),
    data: { object: o.object, ...(o.previous_attributes ? { previous_attributes: o.previous_attributes } : {}) },
    livemode: false,
    pending_webhooks: o.pending_webhooks ?? 0,
    request: { id: null, idempotency_key: null },
    type: o.type,
  };
  // Stripe.Event is a union discriminated by `type`; a factory over any type cannot name the member.
  return e as unknown as Stripe.Event;
}

/** The id of an object reference (a bare id or an expanded object). */
export { idOf };
