/**
 * The canonical entities a profile can feed, with the type and the checks of every column. The loader
 * reads source rows as text and applies these checks in SQL, so one bad row is rejected with a reason
 * instead of failing the batch.
 */
import { ANY_STRIPE_PAYMENT, SUPERSEDED_PAYMENTS_JOIN } from './stripe/dedupe.ts';

export type ColumnKind = 'text' | 'int' | 'count' | 'money' | 'number' | 'timestamp' | 'bool' | 'currency' | 'json';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** A row without this value is rejected. */
  required?: boolean;
  /** Canonical vocabulary: a value outside it is rejected (the raw value is kept beside it). */
  values?: readonly string[];
}

export interface EntitySpec {
  entity: string;
  table: string;
  /** Key columns after tenant_id. */
  key: string[];
  columns: ColumnSpec[];
  /**
   * Where the loader records each version change of a row the KPI rollups read (−1 for a version
   * replaced or deleted, +1 for one inserted), with only the columns the rollups need. See
   * migration 3 and src/models/kpis/rollups.ts.
   */
  delta?: { table: string; columns: string[] };
  /** Predicate on the canonical table selecting the rows the PostgreSQL source owns (reconciliation
   * deletes only among those: Stripe's payments are not the database's to delete). */
  ownRows?: string;
  /**
   * Rows the rollups do not count, left out of every delta insert: a database payment that Stripe's
   * copy of the same payment supersedes (src/ingest/stripe/dedupe.ts). `join` is a clause on alias t
   * that reads `columns` of t besides the delta's own. `possible` is a query whose one row's `any` is
   * false while the join cannot leave anything out (no Stripe payment held): a batch then neither
   * joins nor reads those columns of the rows it replaces, which for a change spread over the whole
   * table means every block of them (1% of 1M payments: 35-41 ms cold to find the replaced rows
   * without them, 50-64 ms with them).
   */
  deltaExclude?: { join: string; columns: string[]; possible: string };
}

const c = (name: string, kind: ColumnKind, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, kind, ...extra });

export const ORDER_STATUSES = ['pending', 'paid', 'fulfilled', 'cancelled', 'refunded'] as const;
export const PAYMENT_STATUSES = ['succeeded', 'failed', 'pending', 'refunded'] as const;
/** `incomplete`: a Stripe subscription whose first payment never went through (never active, never churned). */
export const SUBSCRIPTION_STATUSES = ['trialing', 'active', 'past_due', 'cancelled', 'paused', 'incomplete'] as const;

export const ENTITIES: Record<string, EntitySpec> = {
  customers: {
    entity: 'customers', table: 'customers', key: ['customer_id'],
    columns: [c('customer_id', 'text', { required: true }), c('email', 'text'), c('country', 'text'),
      c('segment', 'text', { values: ['regular', 'vip', 'enterprise'] }), c('raw_segment', 'text'), c('lead_score', 'number'),
      c('created_at', 'timestamp'), c('updated_at', 'timestamp'), c('external_id', 'text')],
  },
  products: {
    entity: 'products', table: 'products', key: ['product_id'],
    columns: [c('product_id', 'text', { required: true }), c('name', 'text'), c('category', 'text'),
      c('base_price', 'money'), c('base_cost', 'money'), c('current_price', 'money', { required: true }), c('currency', 'currency', { required: true }),
      c('inventory', 'int'), c('reorder_point', 'int'), c('active', 'bool'), c('pricing_factors', 'json'),
      c('last_price_update', 'timestamp'), c('created_at', 'timestamp'), c('updated_at', 'timestamp')],
  },
  orders: {
    entity: 'orders', table: 'orders', key: ['order_id'],
    delta: { table: 'delta_orders', columns: ['created_at', 'currency', 'status', 'total'] },
    columns: [c('order_id', 'text', { required: true }), c('customer_id', 'text'),
      c('status', 'text', { required: true, values: ORDER_STATUSES }), c('raw_status', 'text'),
      c('total', 'money', { required: true }), c('currency', 'currency', { required: true }), c('channel', 'text'),
      c('closed_by', 'text', { values: ['ai', 'human'] }), c('conversation_id', 'text'),
      c('created_at', 'timestamp', { required: true }), c('updated_at', 'timestamp')],
  },
  order_items: {
    entity: 'order_items', table: 'order_items', key: ['order_id', 'line_no'],
    columns: [c('order_id', 'text', { required: true }), c('line_no', 'int', { required: true }), c('product_id', 'text'),
      c('quantity', 'count', { required: true }), c('unit_price', 'money', { required: true }), c('created_at', 'timestamp')],
  },
  payments: {
    entity: 'payments', table: 'payments', key: ['payment_id'], ownRows: `source = 'db'`,
    delta: { table: 'delta_payments', columns: ['created_at', 'customer_id', 'product_id', 'currency', 'status', 'amount', 'refunded_amount'] },
    deltaExclude: { join: SUPERSEDED_PAYMENTS_JOIN, columns: ['source', 'external_id'], possible: ANY_STRIPE_PAYMENT },
    columns: [c('payment_id', 'text', { required: true }), c('source', 'text', { required: true }), c('external_id', 'text'),
      c('order_id', 'text'), c('customer_id', 'text'), c('product_id', 'text'),
      c('amount', 'money', { required: true }), c('currency', 'currency', { required: true }),
      c('status', 'text', { required: true, values: PAYMENT_STATUSES }), c('raw_status', 'text'),
      c('refunded_amount', 'money', { required: true }), c('created_at', 'timestamp', { required: true }), c('completed_at', 'timestamp')],
  },
  subscriptions: {
    entity: 'subscriptions', table: 'subscriptions', key: ['subscription_id'], ownRows: `source IS DISTINCT FROM 'stripe'`,
    columns: [c('subscription_id', 'text', { required: true }), c('customer_id', 'text'), c('plan_id', 'text'), c('plan_name', 'text'),
      c('monthly_amount', 'money'), c('currency', 'currency'), c('status', 'text', { required: true, values: SUBSCRIPTION_STATUSES }),
      c('raw_status', 'text'), c('started_at', 'timestamp'), c('current_period_end', 'timestamp'), c('cancelled_at', 'timestamp'),
      c('source', 'text', { values: ['db', 'stripe'] }), c('external_id', 'text')],
  },
  page_views: {
    entity: 'page_views', table: 'page_views', key: ['page_view_id'],
    delta: { table: 'delta_page_views', columns: ['ts', 'views'] },
    columns: [c('page_view_id', 'text', { required: true }), c('ts', 'timestamp', { required: true }), c('page', 'text'),
      c('user_id', 'text'), c('product_id', 'text'), c('views', 'count', { required: true })],
  },
  product_events: {
    entity: 'product_events', table: 'product_events', key: ['event_id'],
    delta: { table: 'delta_product_events', columns: ['ts', 'product_id', 'views', 'cart_adds', 'sales'] },
    columns: [c('event_id', 'text', { required: true }), c('ts', 'timestamp', { required: true }), c('product_id', 'text'),
      c('views', 'count', { required: true }), c('cart_adds', 'count', { required: true }), c('sales', 'count', { required: true })],
  },
  experiments: {
    entity: 'experiments', table: 'experiments', key: ['experiment_id'],
    columns: [c('experiment_id', 'text', { required: true }), c('name', 'text'), c('metric', 'text'), c('status', 'text'),
      c('raw_status', 'text'), c('variants', 'json'), c('started_at', 'timestamp')],
  },
  experiment_units: {
    entity: 'experiment_units', table: 'experiment_units', key: ['experiment_id', 'unit_id', 'variant'],
    columns: [c('experiment_id', 'text', { required: true }), c('unit_id', 'text', { required: true }), c('variant', 'text', { required: true }),
      c('converted', 'bool'), c('revenue', 'money'), c('ts', 'timestamp')],
  },
  conversations: {
    entity: 'conversations', table: 'conversations', key: ['conversation_id'],
    columns: [c('conversation_id', 'text', { required: true }), c('customer_id', 'text'), c('channel', 'text'),
      c('handled_by', 'text', { values: ['ai', 'human', 'mixed'] }), c('started_at', 'timestamp'), c('first_response_at', 'timestamp'), c('escalated', 'bool')],
  },
};
