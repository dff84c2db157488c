import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, toCsv, wantsCsv } from '../../src/api/csv.ts';

describe('CSV', () => {
  it('quotes commas, quotes and line breaks, and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.25)).toBe('0.25');
  });

  it('defuses spreadsheet formulas but leaves negative numbers alone', () => {
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('-12.50')).toBe('-12.50');
  });

  it('writes a header and CRLF lines', () => {
    expect(toCsv(['a', 'b'], [{ a: 1, b: 'x,y' }, { a: null }])).toBe('a,b\r\n1,"x,y"\r\n,\r\n');
  });

  it('round-trips arbitrary text through parseCsv', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 2 }), { maxLength: 10 }), (cells) => {
        const safe = cells.map((r) => r.map((s) => s.replace(/^[=+\-@\t\r]+/, '')));
        const rows = safe.map(([a, b]) => ({ a, b }));
        const parsed = parseCsv(toCsv(['a', 'b'], rows));
        expect(parsed[0]).toEqual(['a', 'b']);
        expect(parsed.slice(1)).toEqual(safe);
      }),
    );
  });

  it('negotiates from format or Accept', () => {
    expect(wantsCsv('csv', undefined)).toBe(true);
    expect(wantsCsv('json', 'text/csv')).toBe(false);
    expect(wantsCsv(undefined, 'text/csv')).toBe(true);
    expect(wantsCsv(undefined, 'application/json, text/csv')).toBe(false);
    expect(wantsCsv(undefined, '*/*')).toBe(false);
  });
});
