import type { QueryResult } from 'kysely';
import type { SyncSqlite } from '../../storage/sql/sync-sqlite.ts';

type Execute = <Row>(sql: string, parameters: readonly unknown[]) => QueryResult<Row>;

/** One rotation's statements inside a transaction (synchronous): true when its claim took. */
export type RotationWork = (execute: Execute) => boolean;

export interface GroupCommit {
  /**
   * Runs `work` in the next group's transaction and resolves once that has committed: true or
   * false from `work`, or undefined when the connection was inside a Kysely transaction (the
   * caller then takes its Kysely path, which waits its turn).
   */
  run(work: RotationWork): Promise<boolean | undefined>;
}

interface Pending {
  work: RotationWork;
  resolve(value: boolean | undefined): void;
  reject(error: unknown): void;
}

/**
 * Embedded group commit: the rotations that reach the store in one turn of the event loop (the
 * requests read from the sockets in one poll) commit together, in one BEGIN IMMEDIATE … COMMIT,
 * run just after that turn (setImmediate). The commit — the WAL frames of every page the
 * transaction dirtied — was the largest single cost of an embedded rotation (docs/benchmarks.md,
 * W2 profile), and rotations in one group share the table's last pages and one commit.
 *
 * Every guarantee of a rotation alone holds: no response is sent before its rotation committed
 * (a crash before the COMMIT leaves every old token of the group usable, SEC-REL-04); nothing
 * interleaves with the group's transaction, and two claims of one token in a group see each
 * other as two racers do (the second claims nothing: one live chain, SEC-REL-02). A rotation that
 * throws rolls the group back, and then each runs alone, so an error stays with its own request.
 */
export function createGroupCommit(sync: SyncSqlite): GroupCommit {
  let pending: Pending[] = [];

  function alone(item: Pending): void {
    try {
      item.resolve(sync.transaction(item.work)?.value);
    } catch (error) {
      item.reject(error);
    }
  }

  function flush(): void {
    const group = pending;
    pending = [];
    if (group.length > 1) {
      let done: { value: boolean[] } | undefined;
      try {
        done = sync.transaction((execute) => group.map((item) => item.work(execute)));
      } catch {
        // Rolled back as a whole: each rotation runs alone below.
      }
      if (done) {
        group.forEach((item, index) => item.resolve(done.value[index]));
        return;
      }
    }
    for (const item of group) alone(item);
  }

  return {
    run(work) {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ work, resolve, reject });
      });
    },
  };
}
