import type { ProfileName } from '../config.ts';
import { generateB2bDistribution } from './b2b-distribution.ts';
import { generateCourseSales } from './course-sales.ts';
import { generateFieldServices } from './field-services.ts';
import { generatePricingPlatform } from './pricing-platform.ts';
import type { ProfileGenerator } from './profile-generator.ts';
import { generateVoiceBooking } from './voice-booking.ts';

/**
 * The deterministic generator of every shipped profile, for the demo and the bench. pricing-platform's
 * own truth is richer (see its module); here it reports the common part and keeps the rest in `extra`.
 */
export const GENERATORS: Record<ProfileName, ProfileGenerator> = {
  'pricing-platform': async (client, opts) => {
    const truth = await generatePricingPlatform(client, { seed: opts.seed, orders: opts.orders, days: opts.days, end: opts.end });
    return {
      generator: 'pricing-platform', seed: truth.seed, start: truth.start, end: truth.end, currency: 'USD',
      tenants: ['default'], orders: truth.options.orders, extra: truth as unknown as Record<string, unknown>,
    };
  },
  'course-sales': generateCourseSales,
  'b2b-distribution': generateB2bDistribution,
  'field-services': generateFieldServices,
  'voice-booking': generateVoiceBooking,
};
