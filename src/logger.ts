import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';

/** JSON logs on stdout; credentials never reach them. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'pricecast' },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', '*.SOURCE_DATABASE_URL', '*.STRIPE_API_KEY', 'config.API_KEYS'],
      censor: '[redacted]',
    },
  });
}
