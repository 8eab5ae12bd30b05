/**
 * How far one PostgreSQL primary carries refresh rotation (issue 21 item 3). Drives rotations
 * straight at the production schema — a scratch database migrated by the server's own migrations,
 * the token store's own statements (`createSqlTokenStore`: named prepared statements through
 * pg-direct.ts), no HTTP, no signing — from several client processes with many connections each,
 * for a bounded time, and reports:
 *
 * - rotations/s, and rotations per PostgreSQL CPU-second: utime + stime from /proc/<pid>/stat of
 *   the backends serving this run's connections (pg_stat_activity, this database only), so other
 *   work on a shared server is not counted; the WAL writer / checkpointer are cluster-wide and
 *   reported apart;
 * - WAL bytes per rotation: pg_wal_lsn_diff(pg_current_wal_lsn()) over the run — cluster-wide, so an
 *   upper bound on a shared server (the minimum of several reps is the honest figure);
 * - p50 / p99 latency of one rotation as the client sees it (commit included: fsync on).
 *
 *   node bench/pg-capacity.ts [--path one|two|both] [--duration 10] [--reps 1] [--workers 2]
 *                             [--connections 16] [--chains 4] [--pg postgres://postgres@127.0.0.1:5432/postgres]
 *                             [--wal-detail] [--fillfactor N] [--touch due|always]
 *
 * `--path one`: the server's rotation of a token it issued, one statement (rotateKnownRefreshToken);
 * `two`: the lookup-then-claim path (findRefreshToken, then rotateRefreshToken), which is what
 * every rotation sent before issue 21 and what a token issued by another instance still sends.
 *
 * `--wal-detail`: after each run, this database's WAL records of the run by relation and record
 * type, per rotation (pg_walinspect, created in the scratch database and dropped with it): which
 * part of a rotation writes what — the claimed row's new version, index entries, full-page images.
 * `--fillfactor N`: sets refresh_tokens' fillfactor after the migrations (an experiment: what
 * another setting than the schema's would do). `--touch always`: the one statement always carries
 * the session touch (as before the server sent it only when due), to measure what that costs.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase } from '../src/storage/sql/database.ts';
import { migrateToLatest } from '../src/storage/sql/migrate.ts';
import { createSqlTokenStore, type KnownRotation, type RefreshTokenRow, type SealedResponse } from '../src/features/tokens/store.ts';
import { hashSecret, newId, randomToken } from '../src/crypto/random.ts';
import { seal } from '../src/crypto/seal.ts';
import { createClientRegistry } from '../src/features/clients/registry.ts';
import { createClientStore } from '../src/features/clients/store.ts';
import { createAuditLog } from '../src/features/audit/audit-log.ts';
import { cpuSeconds } from './lib/proc.ts';

type Path = 'one' | 'two';

interface Chain {
  grantId: string;
  userId: string;
  sessionId: string;
  tokenId: string;
  tokenHash: string;
  /** When the session was last seen, as the statements reported it (the server's rotation hint keeps the same). */
  sessionSeenAt: number;
}

interface WorkerResult {
  rotations: number;
  failures: number;
  latenciesMs: number[];
}

const SCOPE = 'openid profile';
const CLIENT_ID = 'bench-mobile';
const IDLE_MS = 30 * 24 * 3600 * 1000;
const ROLES: string[] = [];
/** The server's default session touch interval (sessionTouchIntervalSeconds). */
const TOUCH_MS = 60_000;

if (process.argv.includes('--worker')) await worker();
else await main();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      path: { type: 'string', default: 'both' },
      duration: { type: 'string', default: '10' },
      reps: { type: 'string', default: '1' },
      workers: { type: 'string', default: '2' },
      connections: { type: 'string', default: '16' },
      chains: { type: 'string', default: '4' },
      pg: { type: 'string', default: process.env.GH_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      'wal-detail': { type: 'boolean', default: false },
      fillfactor: { type: 'string' },
      touch: { type: 'string', default: 'due' },
    },
  });
  const paths: Path[] = values.path === 'both' ? ['one', 'two'] : [values.path as Path];
  const durationMs = Number(values.duration) * 1000;
  const workers = Number(values.workers);
  const connections = Number(values.connections);
  const chainsPerConnection = Number(values.chains);
  const base = values.pg;
  const name = `gh_capacity_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const observer = new pg.Client({ connectionString: url.toString() });
  try {
    const chains = await seed(url.toString(), workers * connections * chainsPerConnection, values.fillfactor === undefined ? undefined : Number(values.fillfactor));
    await observer.connect();
    if (values['wal-detail']) await observer.query('create extension if not exists pg_walinspect');
    const settings = (await observer.query<{ name: string; setting: string }>(`select name, setting from pg_settings where name in ('server_version', 'synchronous_commit', 'fsync', 'full_page_writes', 'wal_level', 'shared_buffers')`)).rows;
    console.log(`PostgreSQL ${settings.map((row) => `${row.name}=${row.setting}`).join(' ')}; ${workers} client processes × ${connections} connections, ${chains.length} chains, ${values.duration} s per run`);
    console.log('\n| path | rotations/s | p50 ms | p99 ms | PG backend CPU (cores) | rotations per PG backend CPU-s | PG background CPU (cores, cluster) | WAL bytes per rotation (cluster) | client CPU (cores) | failures |');
    console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    const children = Array.from({ length: workers }, (_, index) => start(url.toString(), connections, chains.filter((_, chain) => chain % workers === index), values.touch === 'always' ? 'always' : 'due'));
    await Promise.all(children.map((child) => child.ready));
    const walDetails: { path: Path; rep: number; rows: WalRow[] }[] = [];
    const backgroundPids = (await observer.query<{ pid: number }>(`select pid from pg_stat_activity where backend_type in ('walwriter', 'checkpointer', 'background writer')`)).rows.map((row) => row.pid);
    for (let rep = 0; rep < Number(values.reps); rep++) {
      for (const path of paths) {
        const backends = (await observer.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows.map((row) => row.pid);
        const cpu = (pids: number[]) => pids.reduce((sum, pid) => sum + safeCpu(pid), 0);
        const clientPids = children.map((child) => child.pid);
        const before = { backend: cpu(backends), background: cpu(backgroundPids), client: cpu(clientPids), lsn: (await observer.query<{ lsn: string }>('select pg_current_wal_lsn() as lsn')).rows[0]!.lsn, at: performance.now() };
        const results = await Promise.all(children.map((child) => child.run(path, durationMs)));
        const seconds = (performance.now() - before.at) / 1000;
        const end = (await observer.query<{ bytes: string; lsn: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1) as bytes, pg_current_wal_lsn() as lsn', [before.lsn])).rows[0]!;
        const wal = Number(end.bytes);
        const backendCpu = cpu(backends) - before.backend;
        const rotations = results.reduce((sum, result) => sum + result.rotations, 0);
        const latencies = results.flatMap((result) => result.latenciesMs).sort((a, b) => a - b);
        const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
        if (values['wal-detail']) {
          // A busy cluster may have recycled the run's first segment already: then there is no detail.
          const rows = await walDetail(observer, before.lsn, end.lsn, rotations).catch((error: Error) => [{ relation: `(unavailable: ${error.message})`, kind: '', records: 0, bytes: 0, fpi: 0 }]);
          walDetails.push({ path, rep, rows });
        }
        console.log(`| ${path} | ${(rotations / seconds).toFixed(0)} | ${quantile(0.5).toFixed(2)} | ${quantile(0.99).toFixed(2)} | ${(backendCpu / seconds).toFixed(2)} | ${(rotations / backendCpu).toFixed(0)} | ${((cpu(backgroundPids) - before.background) / seconds).toFixed(2)} | ${(wal / rotations).toFixed(0)} | ${((cpu(clientPids) - before.client) / seconds).toFixed(2)} | ${results.reduce((sum, result) => sum + result.failures, 0)} |`);
      }
    }
    for (const child of children) child.stop();
    for (const detail of walDetails) {
      console.log(`\nWAL of run ${detail.rep + 1} (${detail.path}) in this database, per rotation (FPI: full-page images, after a checkpoint):\n\n| relation | record | records | bytes | of which FPI |\n|---|---|--:|--:|--:|`);
      for (const row of detail.rows) console.log(`| ${row.relation} | ${row.kind} | ${row.records.toFixed(2)} | ${row.bytes.toFixed(0)} | ${row.fpi.toFixed(0)} |`);
    }
  } finally {
    await observer.end().catch(() => undefined);
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

interface WalRow {
  relation: string;
  kind: string;
  records: number;
  bytes: number;
  fpi: number;
}

/**
 * This database's WAL records between two LSNs by relation and record type, per rotation. Records
 * that name no relation (commits, mostly) carry no database: they are counted as one group for
 * the cluster, an upper bound like the total.
 */
async function walDetail(client: pg.Client, from: string, to: string, rotations: number): Promise<WalRow[]> {
  const rows = (await client.query<{ relation: string; kind: string; records: string; bytes: string; fpi: string }>(
    `with records as (
       select resource_manager || '/' || split_part(record_type, ' ', 1) as kind, record_length, fpi_length,
         (regexp_match(block_ref, 'rel \\d+/(\\d+)/(\\d+)')) as rel
       from pg_get_wal_records_info($1, $2)
     )
     select case when rel is null then '(none: commits …, cluster)' else coalesce(c.relname, '(relfilenode ' || rel[2] || ')') end as relation,
       kind, count(*) as records, sum(record_length) as bytes, sum(fpi_length) as fpi
     from records left join pg_class c on c.relfilenode = rel[2]::oid
     where rel is null or rel[1]::oid = (select oid from pg_database where datname = current_database())
     group by 1, 2 order by 4 desc`,
    [from, to],
  )).rows;
  return rows.map((row) => ({ relation: row.relation, kind: row.kind, records: Number(row.records) / rotations, bytes: Number(row.bytes) / rotations, fpi: Number(row.fpi) / rotations }));
}

/** CPU seconds of a process, 0 once it is gone. */
function safeCpu(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

/** Users, device sessions, grants and each grant's first refresh token, as the server writes them. */
async function seed(url: string, count: number, fillfactor: number | undefined): Promise<Chain[]> {
  const database = openDatabase({ url, poolSize: 4 });
  try {
    await migrateToLatest(database);
    if (fillfactor !== undefined) await sql`alter table refresh_tokens set (fillfactor = ${sql.raw(String(Math.trunc(fillfactor)))})`.execute(database.db);
    const store = createSqlTokenStore(database.db);
    const at = Date.now();
    // The client through the registry, as the admin API creates one (whatever columns clients gains).
    await createClientRegistry({ store: createClientStore(database.db), db: database.db, audit: createAuditLog(database.db) }).create({ client_id: CLIENT_ID, name: 'Capacity bench', type: 'public', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'], scopes: SCOPE.split(' '), audiences: ['urn:peer:api'], first_party: true });
    const chains: Chain[] = [];
    for (let index = 0; index < count; index++) {
      const userId = newId(at);
      const sessionId = newId(at);
      await database.db.insertInto('users').values({ id: userId, email: `capacity-${index}@example.com`, email_verified_at: at, name: null, password_hash: null, roles: JSON.stringify(ROLES), created_at: at, updated_at: at, disabled_at: null }).execute();
      await database.db.insertInto('sessions').values({ id: sessionId, token_hash: hashSecret(randomToken(32)), user_id: userId, created_at: at, last_seen_at: at, expires_at: at + IDLE_MS * 3, ip: null, user_agent: null, auth_methods: '["pwd"]', auth_time: at }).execute();
      const grant = { id: newId(at), client_id: CLIENT_ID, user_id: userId, session_id: sessionId, scope: SCOPE, created_at: at, expires_at: at + IDLE_MS * 3, revoked_at: null };
      const token = successorRow(grant.id, at);
      await store.createGrantWithToken(grant, token);
      chains.push({ grantId: grant.id, userId, sessionId, tokenId: token.id, tokenHash: token.token_hash, sessionSeenAt: at });
    }
    return chains;
  } finally {
    await database.close();
  }
}

function successorRow(grantId: string, at: number): RefreshTokenRow {
  return { id: newId(at), token_hash: hashSecret(randomToken(32)), grant_id: grantId, scope: SCOPE, created_at: at, idle_expires_at: at + IDLE_MS, rotated_at: null, successor_id: null, successor_token_encrypted: null, successor_access_token_encrypted: null, successor_access_token_expires_at: null };
}

interface Child {
  pid: number;
  ready: Promise<void>;
  run(path: Path, durationMs: number): Promise<WorkerResult>;
  stop(): void;
}

function start(url: string, connections: number, chains: Chain[], touch: 'due' | 'always'): Child {
  const child = fork(fileURLToPath(import.meta.url), ['--worker'], { execArgv: ['--disable-warning=ExperimentalWarning'], stdio: 'inherit' });
  let pending: ((result: WorkerResult) => void) | undefined;
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.on('message', (message: { ready?: true; result?: WorkerResult }) => {
    if (message.ready) onReady();
    if (message.result) pending?.(message.result);
  });
  child.send({ url, connections, chains, touch });
  return {
    pid: child.pid!,
    ready,
    run: (path, durationMs) => new Promise((resolve) => {
      pending = resolve;
      child.send({ path, durationMs });
    }),
    stop: () => child.send({ stop: true }),
  };
}

/** A client process: its own pool, `connections` loops, each rotating its own chains in turn. */
async function worker(): Promise<void> {
  const setup = await new Promise<{ url: string; connections: number; chains: Chain[]; touch: 'due' | 'always' }>((resolve) => process.once('message', resolve));
  const database = openDatabase({ url: setup.url, poolSize: setup.connections });
  const store = createSqlTokenStore(database.db);
  const key = randomBytes(32);
  // Sized like the server's: a 43-character successor and an ES256 access token of the W2 shape.
  const accessToken = JSON.stringify({ access_token: randomToken(480), scope: SCOPE.split(' '), audience: ['urn:peer:api'] });
  const chains = setup.chains;
  // Every connection opened (and every statement prepared on it) before the first measured run.
  await Promise.all(Array.from({ length: setup.connections }, () => database.db.selectFrom('grants').select('id').limit(1).execute()));

  async function rotateOnce(chain: Chain, path: Path): Promise<boolean> {
    const at = Date.now();
    const next = successorRow(chain.grantId, at);
    const response: SealedResponse = { successor: seal(key, randomToken(32), chain.tokenId), accessToken: seal(key, accessToken, `${chain.tokenId} access-token`), accessTokenExpiresAt: at + 600_000 };
    let rotated: boolean;
    if (path === 'one') {
      // As the server: the session touch is in the statement only when it may be due (once a minute).
      const touchBefore = at - TOUCH_MS + 1;
      const touch = setup.touch === 'always' || chain.sessionSeenAt < touchBefore;
      const known: KnownRotation = { tokenHash: chain.tokenHash, tokenId: chain.tokenId, tokenScope: SCOPE, grant: { id: chain.grantId, client_id: CLIENT_ID, user_id: chain.userId, session_id: chain.sessionId, scope: SCOPE }, roles: ROLES, touchSessionSeenBefore: touch ? touchBefore : 0 };
      const outcome = await store.rotateKnownRefreshToken!(known, at, next, response);
      rotated = outcome.rotated;
      if (outcome.sessionSeenAt !== null) chain.sessionSeenAt = outcome.sessionSeenAt;
    } else {
      const found = await store.findRefreshToken(chain.tokenHash);
      rotated = found !== undefined && found.token.rotated_at === null && (await store.rotateRefreshToken(found.token.id, at, next, response));
    }
    if (rotated) {
      chain.tokenId = next.id;
      chain.tokenHash = next.token_hash;
    }
    return rotated;
  }

  process.on('message', (message: { path?: Path; durationMs?: number; stop?: true }) => {
    if (message.stop) {
      void database.close().then(() => process.exit(0));
      return;
    }
    const path = message.path!;
    const until = performance.now() + message.durationMs!;
    const result: WorkerResult = { rotations: 0, failures: 0, latenciesMs: [] };
    const loops = Array.from({ length: setup.connections }, async (_, loop) => {
      const mine = chains.filter((_, index) => index % setup.connections === loop);
      for (let turn = 0; performance.now() < until; turn++) {
        const started = performance.now();
        const ok = await rotateOnce(mine[turn % mine.length]!, path);
        result.latenciesMs.push(performance.now() - started);
        if (ok) result.rotations++;
        else result.failures++;
      }
    });
    void Promise.all(loops).then(() => process.send!({ result }));
  });
  process.send!({ ready: true });
}
