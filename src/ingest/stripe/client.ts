import Stripe from 'stripe';
import pRetry from 'p-retry';

export interface StripeSettings {
  apiKey: string;
  /** https://api.stripe.com, or a local server speaking its API (tests). */
  apiBase: string;
  timeoutMs?: number;
}

/** The real SDK. Its own retries (connection errors, 409, 5xx) stay on; 429s are ours (listAll). */
export function stripeClient(s: StripeSettings): Stripe {
  const url = new URL(s.apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(s.apiKey, {
    host: url.hostname,
    port: Number(url.port || (protocol === 'http' ? 80 : 443)),
    protocol,
    maxNetworkRetries: 2,
    timeout: s.timeoutMs ?? 30_000,
    appInfo: { name: 'pricecast' },
  });
}

/** The lists pricecast reads, by their URL name. */
export const LISTS = ['payment_intents', 'charges', 'refunds', 'invoices', 'subscriptions', 'events'] as const;
export type ListName = (typeof LISTS)[number];

type Page = AsyncIterable<{ id: string; created: number }>;

function lister(stripe: Stripe, name: ListName): (params: Record<string, unknown>) => Page {
  switch (name) {
    case 'payment_intents': return (p) => stripe.paymentIntents.list(p);
    case 'charges': return (p) => stripe.charges.list(p);
    case 'refunds': return (p) => stripe.refunds.list(p);
    case 'invoices': return (p) => stripe.invoices.list(p) as Page;
    case 'subscriptions': return (p) => stripe.subscriptions.list(p);
    case 'events': return (p) => stripe.events.list(p);
  }
}

export interface RetryPolicy {
  /** Attempts after the first, per list (a resumed list keeps what it already read). */
  retries: number;
  baseMs: number;
  maxMs: number;
  onRetry?: (info: { list: ListName; attempt: number; error: string; status?: number }) => void;
}

/**
 * Whether a failed list request is worth repeating: a rate limit (the SDK does not retry a 429 that
 * lacks Stripe-Should-Retry), a server error or a lost connection the SDK's own retries did not
 * get past. Not an authentication or request error: repeating cannot fix those.
 */
export function retryable(err: unknown): boolean {
  const e = err as { type?: string; statusCode?: number };
  if (e.type === 'StripeRateLimitError' || e.statusCode === 429) return true;
  if (e.type === 'StripeConnectionError' || e.type === 'StripeAPIError') return true;
  return typeof e.statusCode === 'number' && e.statusCode >= 500;
}

/**
 * Every object of a list through the SDK's auto-pagination, newest first, to `onItem`. A retryable
 * failure backs off exponentially with jitter (so many clients do not retry in step) and resumes
 * after the last object read (`starting_after`), so a long backfill does not start over. Returns
 * how many objects were read.
 */
export async function listAll(
  stripe: Stripe, name: ListName, params: Record<string, unknown>, onItem: (item: { id: string; created: number }) => void | Promise<void>, retry: RetryPolicy,
): Promise<number> {
  const list = lister(stripe, name);
  let last: string | undefined;
  let count = 0;
  await pRetry(async () => {
    for await (const item of list({ limit: 100, ...params, ...(last ? { starting_after: last } : {}) })) {
      await onItem(item);
      last = item.id;
      count++;
    }
  }, {
    retries: retry.retries,
    minTimeout: retry.baseMs,
    maxTimeout: retry.maxMs,
    factor: 2,
    randomize: true,
    shouldRetry: ({ error }) => retryable(error),
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (retryable(error)) retry.onRetry?.({ list: name, attempt: attemptNumber, error: error.message, status: (error as { statusCode?: number }).statusCode });
    },
  });
  return count;
}
