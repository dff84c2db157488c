import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import type { Config } from '../config.ts';
import { migrate } from './migrations.ts';

export type Row = Record<string, unknown>;
export type Params = DuckDBValue[] | Record<string, DuckDBValue>;

/** Statements the API sends are a few dozen shapes; more than this per connection means text varies per request. */
const PREPARED_PER_CONNECTION = 64;

export interface WarehouseOptions {
  path: string;
  memoryLimit?: string;
  threads?: number;
  /** WAL size that triggers a checkpoint (DuckDB's `checkpoint_threshold`). */
  checkpointThreshold?: string;
}

/**
 * One DuckDB file per process. Jobs write through the single `writer` connection (serialised by
 * `withWriter`), API handlers read through their own connections, so a long job never blocks a
 * dashboard and readers always see the last committed state.
 */
export class Warehouse {
  private writeQueue: Promise<unknown> = Promise.resolve();
  private readers: DuckDBConnection[] = [];
  /** The extra writer connections of a withLanes call under way (interrupted with the writer). */
  private laneConnections: DuckDBConnection[] = [];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
  ) {}

  /** The warehouse a configuration describes (file, memory limit, threads, checkpoint threshold). */
  static fromConfig(config: Pick<Config, 'DUCKDB_PATH' | 'DUCKDB_MEMORY_LIMIT' | 'DUCKDB_THREADS' | 'DUCKDB_CHECKPOINT_THRESHOLD'>): Promise<Warehouse> {
    return Warehouse.open({
      path: config.DUCKDB_PATH, memoryLimit: config.DUCKDB_MEMORY_LIMIT, threads: config.DUCKDB_THREADS,
      checkpointThreshold: config.DUCKDB_CHECKPOINT_THRESHOLD,
    });
  }

  static async open(opts: WarehouseOptions): Promise<Warehouse> {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    const instance = await DuckDBInstance.create(opts.path, {
      memory_limit: opts.memoryLimit ?? '384MB',
      threads: String(opts.threads ?? 2),
      checkpoint_threshold: opts.checkpointThreshold ?? '64MB',
      // jemalloc's threads hand freed memory back to the OS as it ages, instead of the query threads
      // doing it at the end of a task. Peak RSS of a 10M-order full load: 825-933 MiB in seven runs,
      // against 864-1,041 MiB in seven without (two of them past 1,000); no slower.
      allocator_background_threads: 'true',
    });
    const writer = await instance.connect();
    const wh = new Warehouse(opts.path, instance, writer);
    await wh.setUp(writer);
    // Written into the file at once: DuckDB 1.5 cannot replay an ALTER ... TYPE ... USING from the
    // WAL (it fails binding the expression), so a crash after a migration must not leave one there.
    if ((await migrate(writer)) > 0 && opts.path !== ':memory:') await writer.run('CHECKPOINT');
    return wh;
  }

  private async setUp(conn: DuckDBConnection): Promise<void> {
    // TIMESTAMP columns hold UTC; the session zone only matters for TIMESTAMPTZ casts and now().
    await conn.run(`SET TimeZone = 'UTC'`);
  }

  /** Runs `fn` with exclusive use of the writer connection (jobs queue behind each other). */
  withWriter<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('warehouse is closed'));
    const run = this.writeQueue.then(() => fn(this.writer));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /** BEGIN … COMMIT on the writer; any throw rolls the whole batch back. */
  transaction<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.withWriter((conn) => inTransaction(conn, fn));
  }

  /**
   * Runs `fn` with `n` writer lanes: the writer and n − 1 more connections, opened for the call. Their
   * transactions run side by side; DuckDB commits concurrent transactions unless they change the same
   * rows, so lanes suit batches that write different tables (an incremental ingest's entities). The
   * writer's queue is held throughout, so no other job's write interleaves with them.
   */
  withLanes<T>(n: number, fn: (lanes: WriterLane[]) => Promise<T>): Promise<T> {
    return this.withWriter(async (writer) => {
      const extra: DuckDBConnection[] = [];
      try {
        for (let i = 1; i < n; i++) {
          const conn = await this.instance.connect();
          extra.push(conn);
          await this.setUp(conn);
        }
        this.laneConnections = extra;
        return await fn([writer, ...extra].map(serialLane));
      } finally {
        this.laneConnections = [];
        for (const conn of extra) conn.closeSync();
      }
    });
  }

  private async reader(): Promise<DuckDBConnection> {
    const conn = this.readers.pop();
    if (conn) return conn;
    const fresh = await this.instance.connect();
    await this.setUp(fresh);
    return fresh;
  }

  /**
   * Read-only query on a pooled reader connection; BIGINT/DECIMAL arrive as strings (lossless). A
   * query with parameters is prepared once per connection and then only bound and run: the API sends
   * the same few statements with new parameters, and parsing, binding and planning them was a third
   * of a KPI request.
   */
  async query<T = Row>(sql: string, params?: Params): Promise<T[]> {
    if (this.closed) throw new Error('warehouse is closed');
    const conn = await this.reader();
    try {
      let reader;
      if (params) {
        const statement = await this.prepared(conn, sql);
        statement.bind(params);
        reader = await statement.runAndReadAll();
      } else {
        reader = await conn.runAndReadAll(sql);
      }
      return reader.getRowObjectsJson() as T[];
    } finally {
      this.release(conn);
    }
  }

  /**
   * A large read on a reader connection, a chunk of rows at a time (DuckDB's vectors, 2,048 rows):
   * the whole result never sits in memory at once. Same value conversions as query().
   */
  async *stream<T = Row>(sql: string, params?: Params): AsyncGenerator<T[]> {
    if (this.closed) throw new Error('warehouse is closed');
    const conn = await this.reader();
    try {
      const result = await conn.stream(sql, params);
      for await (const rows of result.yieldRowObjectJson()) yield rows as T[];
    } finally {
      this.release(conn);
    }
  }

  /** A reader back to the pool, or closed if the warehouse closed meanwhile. */
  private release(conn: DuckDBConnection): void {
    if (this.closed) conn.closeSync();
    else this.readers.push(conn);
  }

  private statements = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

  /** The connection's prepared statement for `sql`, least recently used dropped past PREPARED_PER_CONNECTION. */
  private async prepared(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
    let cache = this.statements.get(conn);
    if (!cache) this.statements.set(conn, (cache = new Map()));
    let statement = cache.get(sql);
    if (statement) {
      cache.delete(sql);
    } else {
      statement = await conn.prepare(sql);
      if (cache.size >= PREPARED_PER_CONNECTION) {
        const [oldest, stale] = cache.entries().next().value!;
        cache.delete(oldest);
        stale.destroySync();
      }
    }
    cache.set(sql, statement);
    return statement;
  }

  /** Writes the WAL into the database file now (jobs call it at a quiet moment). */
  checkpoint(): Promise<void> {
    return this.withWriter(async (conn) => {
      await conn.run('CHECKPOINT');
    });
  }

  /**
   * Closes the file. With `interruptAfterMs`, a write still running after that long is interrupted
   * (its transaction rolls back) instead of holding shutdown hostage.
   */
  async close(opts: { interruptAfterMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    if (opts.interruptAfterMs === undefined) {
      await this.writeQueue;
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.writeQueue.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), opts.interruptAfterMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.writer.interrupt();
        for (const conn of this.laneConnections) conn.interrupt();
        await this.writeQueue;
      }
    }
    this.closed = true;
    for (const c of this.readers) c.closeSync();
    this.readers = [];
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

/** Writes on one connection, one at a time: the Warehouse itself, or a lane of withLanes. */
export interface WriterLane {
  withWriter<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T>;
  transaction<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T>;
}

function serialLane(conn: DuckDBConnection): WriterLane {
  let queue: Promise<unknown> = Promise.resolve();
  const withWriter = <T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
    const run = queue.then(() => fn(conn));
    queue = run.catch(() => undefined);
    return run;
  };
  return { withWriter, transaction: (fn) => withWriter((c) => inTransaction(c, fn)) };
}

async function inTransaction<T>(conn: DuckDBConnection, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const out = await fn(conn);
    await conn.run('COMMIT');
    return out;
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Reads rows from a connection as JSON-safe objects. */
export async function all<T = Row>(conn: DuckDBConnection, sql: string, params?: Params): Promise<T[]> {
  const reader = await conn.runAndReadAll(sql, params);
  return reader.getRowObjectsJson() as T[];
}

/**
 * Drops scratch (temp) tables. Meant for a `finally`: after a failed statement the transaction only
 * takes a rollback, so a drop that fails then must not replace that statement's error.
 */
export async function dropScratch(conn: DuckDBConnection, tables: string[]): Promise<void> {
  await conn.run(tables.map((t) => `DROP TABLE IF EXISTS ${t}`).join('; ')).catch(() => undefined);
}
