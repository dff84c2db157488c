import { execFileSync } from 'node:child_process';

/**
 * Writes the page cache's dirty pages to disk before a measured run. The bench's own set-up leaves
 * hundreds of MB of them (a warehouse file copied back, a database cloned from its template, the
 * payments changed), and on ext4 the first fsync a run makes (DuckDB's WAL at its first COMMIT) waits
 * for the journal to write them: measured, 350-550 ms on a COMMIT that takes 20-50 ms after a sync,
 * charged to a run that wrote 2 MB. A service never pays for the bench's copies.
 */
export function flushWrites(): void {
  execFileSync('sync');
}
