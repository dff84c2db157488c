import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintFromHexSql, fingerprintHex, md5Low64Sql } from '../../src/ingest/row-hash.ts';

describe('row fingerprints between DuckDB and PostgreSQL', () => {
  it('turn DuckDB\'s fingerprint into the first 8 bytes of the md5 hex PostgreSQL computes, and back', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const texts = ['abc', '', 'pay_1|2026-01-01 00:00:00|\\N', 'ünïcode ✓'];
    for (const t of texts) {
      const lit = `'${t.replaceAll("'", "''")}'`;
      const [row] = (await conn.runAndReadAll(`SELECT ${md5Low64Sql(lit)}::VARCHAR AS n, left(md5(${lit}), 16) AS hex,
        ${fingerprintFromHexSql(`left(md5(${lit}), 16)`)}::VARCHAR AS back`)).getRowObjectsJson() as { n: string; hex: string; back: string }[];
      expect(fingerprintHex(row!.n)).toBe(row!.hex);
      expect(row!.back).toBe(row!.n);
    }
    // md5('abc') = 900150983cd24fb0 d6963f7d28e17f72 (RFC 1321's test suite).
    const [abc] = (await conn.runAndReadAll(`SELECT ${md5Low64Sql(`'abc'`)}::VARCHAR AS n`)).getRowObjectsJson() as { n: string }[];
    expect(fingerprintHex(abc!.n)).toBe('900150983cd24fb0');
    conn.closeSync();
  });

  it('are the first 8 bytes of the md5 read little-endian, as node:crypto computes them and as md5_number_upper gave them', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await fc.assert(fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { minLength: 1, maxLength: 50 }), async (texts) => {
      const lits = texts.map((t) => `'${t.replaceAll('\0', '').replaceAll("'", "''")}'`);
      const rows = (await conn.runAndReadAll(`SELECT t, ${md5Low64Sql('t')}::VARCHAR AS n, md5_number_upper(t)::VARCHAR AS upper
        FROM (SELECT unnest([${lits.join(', ')}]::VARCHAR[]) AS t)`)).getRowObjectsJson() as { t: string; n: string; upper: string }[];
      for (const row of rows) {
        expect(row.n).toBe(createHash('md5').update(row.t, 'utf8').digest().readBigUInt64LE(0).toString());
        expect(row.n).toBe(row.upper);
      }
    }), { numRuns: 50 });
    conn.closeSync();
  });
});
