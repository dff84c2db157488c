/**
 * Reads the keys of changed rows out of PostgreSQL's `pgoutput` logical decoding messages (protocol
 * version 1, text tuples; https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html),
 * for bench/change-capture.ts.
 *
 * Only the replica-identity key of each inserted, updated or deleted row is kept: the pull reads the
 * rows themselves again through the profile's SQL, which also applies the mapping. Written by hand
 * because a full parser (pg-logical-replication's) decodes every column of every row into JS values,
 * which would only add to the cost being measured.
 */

export interface TableChanges {
  /** Keys (as PostgreSQL prints them) of rows inserted or updated. */
  upserted: Set<string>;
  /** Keys of rows deleted, or whose key an update changed (the old key). */
  deleted: Set<string>;
  /** A TRUNCATE was seen: every row may have gone. */
  truncated: boolean;
}

interface Relation {
  table: string;
  columns: number;
  /** Position of the one key column, or -1 when the relation has none or several. */
  key: number;
}

export class ChangeKeys {
  readonly tables = new Map<string, TableChanges>();
  /** Tables whose rows cannot be told apart by one column (no key, or a composite one). */
  readonly unkeyed = new Set<string>();
  private relations = new Map<number, Relation>();

  private changes(table: string): TableChanges {
    let c = this.tables.get(table);
    if (!c) this.tables.set(table, (c = { upserted: new Set(), deleted: new Set(), truncated: false }));
    return c;
  }

  /** Takes one message (one row of `pg_logical_slot_peek_binary_changes`). */
  add(msg: Buffer): void {
    const r = new Reader(msg);
    switch (String.fromCharCode(r.byte())) {
      case 'R': {
        const id = r.int32();
        const schema = r.cstring();
        const name = r.cstring();
        r.byte(); // replica identity setting
        const columns = r.int16();
        const keys: number[] = [];
        for (let i = 0; i < columns; i++) {
          if (r.byte() & 1) keys.push(i);
          r.cstring();
          r.int32();
          r.int32();
        }
        const table = `${schema}.${name}`;
        this.relations.set(id, { table, columns, key: keys.length === 1 ? keys[0]! : -1 });
        return;
      }
      case 'I': {
        const rel = this.relation(r.int32());
        r.byte(); // 'N'
        this.upsert(rel, r);
        return;
      }
      case 'U': {
        const rel = this.relation(r.int32());
        let kind = String.fromCharCode(r.byte());
        if (kind === 'K' || kind === 'O') {
          const old = keyOf(rel, r);
          kind = String.fromCharCode(r.byte()); // 'N'
          const now = keyOf(rel, r);
          this.record(rel, now, 'upserted');
          if (old !== now) this.record(rel, old, 'deleted');
          return;
        }
        this.upsert(rel, r);
        return;
      }
      case 'D': {
        const rel = this.relation(r.int32());
        r.byte(); // 'K' or 'O'
        this.record(rel, keyOf(rel, r), 'deleted');
        return;
      }
      case 'T': {
        const n = r.int32();
        r.byte();
        for (let i = 0; i < n; i++) this.changes(this.relation(r.int32()).table).truncated = true;
        return;
      }
      default:
        // Begin, commit, origin, type and message carry no rows.
        return;
    }
  }

  private relation(id: number): Relation {
    const rel = this.relations.get(id);
    // pgoutput sends a relation's description before its first row in every decoding session.
    if (!rel) throw new Error(`pgoutput: row of relation ${id} before its description`);
    return rel;
  }

  private upsert(rel: Relation, r: Reader): void {
    this.record(rel, keyOf(rel, r), 'upserted');
  }

  private record(rel: Relation, key: string | null, into: 'upserted' | 'deleted'): void {
    if (rel.key < 0 || key === null) {
      this.unkeyed.add(rel.table);
      return;
    }
    const c = this.changes(rel.table);
    c[into].add(key);
    if (into === 'upserted') c.deleted.delete(key);
  }
}

/** The key column's text from a TupleData, skipping the other columns; null if it is not there. */
function keyOf(rel: Relation, r: Reader): string | null {
  const n = r.int16();
  let key: string | null = null;
  for (let i = 0; i < n; i++) {
    const kind = String.fromCharCode(r.byte());
    if (kind === 't' || kind === 'b') {
      const len = r.int32();
      if (i === rel.key) key = r.text(len);
      else r.skip(len);
    }
  }
  return key;
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  byte(): number {
    return this.buf.readUInt8(this.at++);
  }
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.at);
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  text(len: number): string {
    const s = this.buf.toString('utf8', this.at, this.at + len);
    this.at += len;
    return s;
  }
  skip(len: number): void {
    this.at += len;
  }
}
