/**
 * Reads the keys of inserted and updated rows out of PostgreSQL's `pgoutput` logical decoding
 * messages (protocol version 1, text tuples;
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html), for
 * bench/change-capture.ts. Deletes and truncations are skipped: the bench's change has none.
 *
 * Only each row's replica-identity key is kept: the pull reads the rows themselves again through the
 * profile's SQL, which also applies the mapping. Written by hand because a full parser
 * (pg-logical-replication's) decodes every column of every row into JS values, which would only add
 * to the cost being measured.
 */

interface Relation {
  table: string;
  /** Position of the one key column. */
  key: number;
}

export class ChangeKeys {
  /** Per `schema.table`, the keys (as PostgreSQL prints them) of rows inserted or updated. */
  readonly tables = new Map<string, Set<string>>();
  private relations = new Map<number, Relation>();

  /** Takes one message (one row of `pg_logical_slot_peek_binary_changes`). */
  add(msg: Buffer): void {
    const r = new Reader(msg);
    switch (String.fromCharCode(r.byte())) {
      case 'R': {
        const id = r.int32();
        const table = `${r.cstring()}.${r.cstring()}`;
        r.byte(); // replica identity setting
        const columns = r.int16();
        const keys: number[] = [];
        for (let i = 0; i < columns; i++) {
          if (r.byte() & 1) keys.push(i);
          r.cstring();
          r.int32();
          r.int32();
        }
        if (keys.length !== 1) throw new Error(`pgoutput: ${table} has no single-column key`);
        this.relations.set(id, { table, key: keys[0]! });
        return;
      }
      case 'I':
      case 'U': {
        const rel = this.relation(r.int32());
        // An update that changed the key sends the old key first ('K' or 'O'), then the new row ('N').
        const kind = String.fromCharCode(r.byte());
        if (kind === 'K' || kind === 'O') {
          keyOf(rel, r);
          r.byte(); // 'N'
        }
        const key = keyOf(rel, r);
        if (key !== null) {
          let keys = this.tables.get(rel.table);
          if (!keys) this.tables.set(rel.table, (keys = new Set()));
          keys.add(key);
        }
        return;
      }
      default:
        // Begin, commit, delete, truncate, origin, type and message.
        return;
    }
  }

  private relation(id: number): Relation {
    const rel = this.relations.get(id);
    // pgoutput sends a relation's description before its first row in every decoding session.
    if (!rel) throw new Error(`pgoutput: row of relation ${id} before its description`);
    return rel;
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
