import type { Warehouse } from '../warehouse/warehouse.ts';

/** UTC day numbers (days since 1970-01-01), as the daily models count time. */

const DAY_MS = 86_400_000;

export const dayNumber = (iso: string): number => Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / DAY_MS);
export const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export const weekday = (day: number): number => (((day + 3) % 7) + 7) % 7;

/**
 * The rollups' as_of and the last complete UTC day before it (the last day a daily model may read),
 * or null before the first refresh.
 */
export async function lastCompleteDay(wh: Warehouse): Promise<{ asOf: string; lastDay: number } | null> {
  const [state] = await wh.query<{ as_of: string | null }>(`SELECT as_of::VARCHAR AS as_of FROM kpi_rollup_state`);
  return state?.as_of ? { asOf: state.as_of, lastDay: dayNumber(state.as_of) - 1 } : null;
}
