import { Counter, Gauge, type Registry } from 'prom-client';
import type { PasswordHashStats } from './hasher.ts';

const REASONS = ['queue_full', 'wait_timeout'] as const;

/**
 * Password-hash load for operators, read from the hasher at scrape time (no per-request work):
 * calls refused with 503 by reason, and calls hashing now. The queue depth itself is
 * `gatehouse_password_hash_queue_depth` (src/http/auth-metrics.ts, fed by `hasher.queueDepth()`).
 * `source` is read lazily, so it may name a hasher created after this is registered.
 */
export function registerPasswordHashMetrics(registry: Registry, source: { stats(): PasswordHashStats }): void {
  const registers = [registry];
  new Counter({
    name: 'gatehouse_password_hash_rejected_total',
    help: 'Password hashes refused (503 with Retry-After) because the hash queue was full or the wait for a slot ran out.',
    labelNames: ['reason'],
    registers,
    collect() {
      const { rejected } = source.stats();
      this.reset();
      for (const reason of REASONS) this.inc({ reason }, rejected[reason]);
    },
  });
  new Gauge({
    name: 'gatehouse_password_hash_in_flight',
    help: 'Password hashes computing now (at most passwordHashConcurrency).',
    registers,
    collect() {
      this.set(source.stats().active);
    },
  });
}
