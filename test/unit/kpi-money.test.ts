import { describe, expect, it } from 'vitest';
import { countDelta, moneyDeltas, rateDelta } from '../../src/models/kpis/deltas.ts';
import { divideAmount, fromMinor, multiplyAmount, normaliseAmount, relativeChange, subtractAmounts, toMinor } from '../../src/models/kpis/money.ts';

describe('money', () => {
  it('converts decimal strings exactly', () => {
    expect(toMinor('12.3')).toBe(1230n);
    expect(toMinor('-0.05')).toBe(-5n);
    expect(toMinor('7')).toBe(700n);
    expect(toMinor('99999999999999999.99')).toBe(9999999999999999999n);
    expect(fromMinor(-5n)).toBe('-0.05');
    expect(normaliseAmount('1.500')).toBe('1.50');
    expect(() => toMinor('1.005')).toThrow();
    expect(() => toMinor('abc')).toThrow();
  });

  it('subtracts, multiplies and divides without floats', () => {
    expect(subtractAmounts('0.30', '0.10')).toBe('0.20');
    expect(multiplyAmount('1234.56', 12)).toBe('14814.72');
    expect(divideAmount('10.00', 3)).toBe('3.33');
    expect(divideAmount('0.05', 2)).toBe('0.03'); // half away from zero
    expect(divideAmount('-0.05', 2)).toBe('-0.03');
    expect(divideAmount('5.00', 0)).toBeNull();
    expect(relativeChange('150.00', '100.00')).toBe(0.5);
    expect(relativeChange('1.00', '0.00')).toBeNull();
  });
});

describe('deltas', () => {
  it('compares counts, rates and money per currency', () => {
    expect(countDelta(15, 10)).toEqual({ previous: 10, change: 5, change_ratio: 0.5 });
    expect(countDelta(3, 0)).toEqual({ previous: 0, change: 3, change_ratio: null });
    expect(rateDelta(0.5, 0.25)).toEqual({ previous: 0.25, change: 0.25 });
    expect(rateDelta(0.5, null)).toEqual({ previous: null, change: null });
    expect(moneyDeltas([{ currency: 'USD', amount: '150.00' }], [{ currency: 'EUR', amount: '10.00' }, { currency: 'USD', amount: '100.00' }])).toEqual([
      { currency: 'EUR', previous: '10.00', change: '-10.00', change_ratio: -1 },
      { currency: 'USD', previous: '100.00', change: '50.00', change_ratio: 0.5 },
    ]);
    expect(moneyDeltas([{ currency: 'USD', amount: '5.00' }], [], false)).toEqual([
      { currency: 'USD', previous: null, change: null, change_ratio: null },
    ]);
  });
});
