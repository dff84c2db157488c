/**
 * Cache of KPI responses computed from the rollups, for dashboards that poll the same range every few
 * seconds. Every key carries the rollups' `computed_at` (read with the request's freshness), so an
 * entry can never outlive the refresh it was computed from: the first request after a refresh misses
 * and recomputes, and older entries age out of the LRU. `invalidate` drops everything at once.
 */

const MAX_ENTRIES = 512;

export class KpiCache {
  /** Off → every request is computed (bench figures are reported this way first). */
  enabled = true;
  private generation = 0;
  private entries = new Map<string, Promise<unknown>>();

  /** Drops every entry (they describe older rollups, or the cache is being switched). */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** `parts` must identify the warehouse, tenant, endpoint, normalised query and computed_at. */
  async get<T>(parts: readonly (string | number | null | undefined)[], compute: () => Promise<T>): Promise<T> {
    if (!this.enabled) return compute();
    const key = JSON.stringify([this.generation, ...parts]);
    const hit = this.entries.get(key);
    if (hit) {
      // Map order is insertion order: re-inserting keeps the most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit as Promise<T>;
    }
    const generation = this.generation;
    const p = compute();
    this.entries.set(key, p);
    // A failure is not cached, and neither is a result a refresh overtook while it was computed.
    p.then(
      () => { if (generation !== this.generation) this.entries.delete(key); },
      () => this.entries.delete(key),
    );
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    return p;
  }
}

