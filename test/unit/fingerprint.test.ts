import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { fingerprintFromHexSql, fingerprintHex } from '../../src/ingest/row-hash.ts';

describe('row fingerprints between DuckDB and PostgreSQL', () => {
  it('turn DuckDB\'s md5_number_upper into the first 8 bytes of the md5 hex PostgreSQL computes, and back', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const texts = ['abc', '', 'pay_1|2026-01-01 00:00:00|\\N', 'ünïcode ✓'];
    for (const t of texts) {
      const lit = `'${t.replaceAll("'", "''")}'`;
      const [row] = (await conn.runAndReadAll(`SELECT md5_number_upper(${lit})::VARCHAR AS n, left(md5(${lit}), 16) AS hex,
        ${fingerprintFromHexSql(`left(md5(${lit}), 16)`)}::VARCHAR AS back`)).getRowObjectsJson() as { n: string; hex: string; back: string }[];
      expect(fingerprintHex(row!.n)).toBe(row!.hex);
      expect(row!.back).toBe(row!.n);
    }
    // md5('abc') = 900150983cd24fb0 d6963f7d28e17f72 (RFC 1321's test suite).
    const [abc] = (await conn.runAndReadAll(`SELECT md5_number_upper('abc')::VARCHAR AS n`)).getRowObjectsJson() as { n: string }[];
    expect(fingerprintHex(abc!.n)).toBe('900150983cd24fb0');
    conn.closeSync();
  });
});
