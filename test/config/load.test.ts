/**
 * loadConfig: defaults, file + environment precedence, and fail-closed validation (style rule 9:
 * unknown keys, invalid values, short secrets and http:// issuers in production are start-up
 * errors that name the key and never echo a secret).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigProblems, loadConfig, redactedConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/types.ts';

/** 32 random bytes, base64: a valid master key. */
const MASTER_KEY = randomBytes(32).toString('base64');
const SMTP_PASSWORD = 'smtp-pass-5d20c4';
/** Everything production requires. */
const PRODUCTION = {
  GATEHOUSE_ENV: 'production',
  GATEHOUSE_MASTER_KEY: MASTER_KEY,
  GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
  GATEHOUSE_SMTP_URL: `smtp://mailer:${SMTP_PASSWORD}@mail.example.com:587`,
};

let directory: string;
let fileCount = 0;

before(() => {
  directory = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
});
after(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Writes `content` (JSON-encoded unless a string) to a fresh file and returns its path. */
function configFile(content: unknown): string {
  const path = join(directory, `config-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Asserts `run` throws a ConfigError whose key and message name `key`, and returns it. */
function assertConfigError(run: () => unknown, key: string | RegExp, message?: RegExp): ConfigError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'CONFIG_INVALID');
  if (typeof key === 'string') {
    assert.equal(caught.key, key);
    assert.ok(caught.message.startsWith(`${key}: `), `message should name ${key}: ${caught.message}`);
  } else {
    assert.match(caught.key, key);
    assert.ok(caught.message.startsWith(`${caught.key}: `), `message should name the key: ${caught.message}`);
  }
  if (message) assert.match(caught.message, message);
  assert.ok(!caught.message.includes('\n'), 'a configuration error is one line');
  return caught;
}

describe('defaults (zero-config development)', () => {
  it('listens on localhost:3000 (the host of the default public URL) with SQLite under ./data and no Redis', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.env, 'development');
    assert.equal(config.port, 3000);
    assert.equal(config.host, 'localhost');
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, 'sqlite:./data/gatehouse.db');
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.masterKey, undefined);
    assert.equal(config.autoMigrate, true);
    assert.deepEqual(config.trustedProxies, []);
    assert.equal(config.configFile, undefined);
  });

  it('derives the default public URL from a custom port', () => {
    assert.equal(loadConfig({ env: { GATEHOUSE_PORT: '8080' } }).publicUrl, 'http://localhost:8080');
    assert.equal(loadConfig({ env: {}, configFile: configFile({ port: 4100 }) }).publicUrl, 'http://localhost:4100');
  });

  it('keeps an explicit public URL when the port changes', () => {
    const config = loadConfig({ env: { GATEHOUSE_PORT: '8080', GATEHOUSE_PUBLIC_URL: 'https://auth.example.com/' } });
    assert.equal(config.publicUrl, 'https://auth.example.com');
  });

  it('derives the default database URL from the data directory', () => {
    assert.equal(loadConfig({ env: { GATEHOUSE_DATA_DIR: '/var/lib/gatehouse' } }).databaseUrl, 'sqlite:/var/lib/gatehouse/gatehouse.db');
    assert.equal(loadConfig({ env: { GATEHOUSE_DATA_DIR: '/var/lib/gatehouse/' } }).databaseUrl, 'sqlite:/var/lib/gatehouse/gatehouse.db');
  });

  it('treats an empty environment variable as unset', () => {
    assert.equal(loadConfig({ env: { GATEHOUSE_PORT: '' } }).port, 3000);
  });

  it('ignores environment variables outside GATEHOUSE_*', () => {
    assert.equal(loadConfig({ env: { PATH: '/usr/bin', PORT: 'nonsense', GATEHOUSEPORT: 'x' } }).port, 3000);
  });
});

describe('JSON config file', () => {
  it('reads camelCase keys of every type', () => {
    const path = configFile({
      port: 4000,
      host: '0.0.0.0',
      publicUrl: 'https://auth.example.com',
      dataDir: '/srv/gatehouse',
      trustedProxies: ['10.0.0.0/8', '::1'],
      autoMigrate: false,
      logLevel: 'warn',
      redisPrefix: 'gh:',
    });
    const config = loadConfig({ env: {}, configFile: path });
    assert.equal(config.port, 4000);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.publicUrl, 'https://auth.example.com');
    assert.equal(config.databaseUrl, 'sqlite:/srv/gatehouse/gatehouse.db');
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '::1']);
    assert.equal(config.autoMigrate, false);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.redisPrefix, 'gh:');
    assert.equal(config.configFile, path);
  });

  it('is found through GATEHOUSE_CONFIG, and --config wins over it', () => {
    const fromEnv = configFile({ port: 4001 });
    const fromFlag = configFile({ port: 4002 });
    assert.equal(loadConfig({ env: { GATEHOUSE_CONFIG: fromEnv } }).port, 4001);
    const config = loadConfig({ env: { GATEHOUSE_CONFIG: fromEnv }, configFile: fromFlag });
    assert.equal(config.port, 4002);
    assert.equal(config.configFile, fromFlag);
  });

  it('is overridden by environment variables, key by key', () => {
    const path = configFile({ port: 4000, host: '0.0.0.0', autoMigrate: false });
    const config = loadConfig({ env: { GATEHOUSE_PORT: '5000', GATEHOUSE_AUTO_MIGRATE: 'true' }, configFile: path });
    assert.equal(config.port, 5000);
    assert.equal(config.autoMigrate, true);
    assert.equal(config.host, '0.0.0.0', 'keys not in the environment still come from the file');
    assert.equal(config.publicUrl, 'http://localhost:5000', 'derived defaults follow the winning value');
  });

  it('treats null in the file as "use the default"', () => {
    assert.equal(loadConfig({ env: {}, configFile: configFile({ port: null }) }).port, 3000);
  });

  it('refuses a missing file, invalid JSON and a non-object', () => {
    assertConfigError(() => loadConfig({ env: {}, configFile: join(directory, 'absent.json') }), 'GATEHOUSE_CONFIG', /cannot read.*ENOENT/);
    assertConfigError(() => loadConfig({ env: {}, configFile: configFile('{ "port": 1, }') }), 'GATEHOUSE_CONFIG', /not valid JSON/);
    assertConfigError(() => loadConfig({ env: {}, configFile: configFile([1, 2]) }), 'GATEHOUSE_CONFIG', /JSON object/);
  });
});

describe('the result', () => {
  it('is frozen', () => {
    const config = loadConfig({ env: { GATEHOUSE_TRUSTED_PROXIES: '10.0.0.1' } });
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.ok(Object.isFrozen(config.trustedProxies), 'lists are frozen too');
    assert.throws(() => (config.trustedProxies as string[]).push('10.0.0.2'), TypeError);
  });

  it('freezes the default trusted-proxies list as well (it is shared by every load)', () => {
    const config = loadConfig({ env: {} });
    assert.ok(Object.isFrozen(config.trustedProxies));
  });
});

describe('invalid values are refused with the key named', () => {
  const cases: { name: string; env?: Record<string, string>; file?: unknown; key: string | RegExp; message: RegExp }[] = [
    { name: 'port out of range', env: { GATEHOUSE_PORT: '70000' }, key: 'GATEHOUSE_PORT', message: /between 0 and 65535/ },
    { name: 'port not a number', env: { GATEHOUSE_PORT: '80a' }, key: 'GATEHOUSE_PORT', message: /whole number/ },
    { name: 'negative port', env: { GATEHOUSE_PORT: '-1' }, key: 'GATEHOUSE_PORT', message: /between/ },
    { name: 'fractional port in the file', file: { port: 80.5 }, key: /^port \(in .*\)$/, message: /whole number/ },
    { name: 'port as a string in the file', file: { port: 'http' }, key: /^port \(in .*\)$/, message: /whole number/ },
    { name: 'public URL not a URL', env: { GATEHOUSE_PUBLIC_URL: 'auth.example.com' }, key: 'GATEHOUSE_PUBLIC_URL', message: /absolute URL/ },
    { name: 'public URL with another scheme', env: { GATEHOUSE_PUBLIC_URL: 'ftp://auth.example.com' }, key: 'GATEHOUSE_PUBLIC_URL', message: /https/ },
    { name: 'public URL with a query', env: { GATEHOUSE_PUBLIC_URL: 'https://auth.example.com/?a=1' }, key: 'GATEHOUSE_PUBLIC_URL', message: /query/ },
    { name: 'trusted proxy list entry', env: { GATEHOUSE_TRUSTED_PROXIES: '10.0.0.1, proxy.local' }, key: 'GATEHOUSE_TRUSTED_PROXIES', message: /"proxy\.local" is not an IP address/ },
    { name: 'trusted proxy prefix length', env: { GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/33' }, key: 'GATEHOUSE_TRUSTED_PROXIES', message: /prefix length/ },
    { name: 'trusted proxy entry in the file', file: { trustedProxies: ['10.0.0.1', 42] }, key: /^trustedProxies \(in .*\)$/, message: /string/ },
    { name: 'trusted proxies not a list in the file', file: { trustedProxies: { a: 1 } }, key: /^trustedProxies \(in .*\)$/, message: /list/ },
    { name: 'boolean', env: { GATEHOUSE_AUTO_MIGRATE: 'maybe' }, key: 'GATEHOUSE_AUTO_MIGRATE', message: /true or false/ },
    { name: 'boolean as a string in the file', file: { autoMigrate: 'nope' }, key: /^autoMigrate \(in .*\)$/, message: /true or false/ },
    { name: 'environment name', env: { GATEHOUSE_ENV: 'prod' }, key: 'GATEHOUSE_ENV', message: /development, production/ },
    { name: 'log level', env: { GATEHOUSE_LOG_LEVEL: 'verbose' }, key: 'GATEHOUSE_LOG_LEVEL', message: /one of/ },
    { name: 'database URL scheme', env: { GATEHOUSE_DATABASE_URL: 'mysql://db/gatehouse' }, key: 'GATEHOUSE_DATABASE_URL', message: /sqlite: or postgres/ },
    { name: 'sqlite URL without a path', env: { GATEHOUSE_DATABASE_URL: 'sqlite:' }, key: 'GATEHOUSE_DATABASE_URL', message: /file path/ },
    { name: 'redis URL scheme', env: { GATEHOUSE_REDIS_URL: 'http://127.0.0.1:6379' }, key: 'GATEHOUSE_REDIS_URL', message: /redis:\/\// },
    { name: 'blank host', env: { GATEHOUSE_HOST: '   ' }, key: 'GATEHOUSE_HOST', message: /empty/ },
  ];
  for (const each of cases) {
    it(each.name, () => {
      const options = each.file === undefined ? { env: each.env ?? {} } : { env: each.env ?? {}, configFile: configFile(each.file) };
      assertConfigError(() => loadConfig(options), each.key, each.message);
    });
  }
});

describe('unknown keys are refused', () => {
  it('an unknown GATEHOUSE_* variable, with a did-you-mean suggestion', () => {
    assertConfigError(() => loadConfig({ env: { GATEHOUSE_PROT: '1' } }), 'GATEHOUSE_PROT', /unknown setting.*did you mean GATEHOUSE_PORT\?/);
  });

  it('an unknown GATEHOUSE_* variable even when it is empty', () => {
    assertConfigError(() => loadConfig({ env: { GATEHOUSE_SECRET: '' } }), 'GATEHOUSE_SECRET', /unknown setting/);
  });

  it('an unknown GATEHOUSE_* variable far from any name, without a suggestion', () => {
    const error = assertConfigError(() => loadConfig({ env: { GATEHOUSE_SMTP_HOSTNAME: 'mail' } }), 'GATEHOUSE_SMTP_HOSTNAME');
    assert.doesNotMatch(error.message, /did you mean/);
  });

  it('an unknown key in the config file', () => {
    const path = configFile({ prot: 3000 });
    assertConfigError(() => loadConfig({ env: {}, configFile: path }), `prot (in ${path})`, /unknown key/);
  });

  it('an environment-style name used as a file key', () => {
    const path = configFile({ GATEHOUSE_PORT: 3000 });
    assertConfigError(() => loadConfig({ env: {}, configFile: path }), `GATEHOUSE_PORT (in ${path})`, /unknown key/);
  });

  it('an unknown key in the config file, with a did-you-mean suggestion', () => {
    const path = configFile({ prot: 3000 });
    assertConfigError(() => loadConfig({ env: {}, configFile: path }), `prot (in ${path})`, /did you mean port\?/);
  });
});

describe('production', () => {
  it('requires a master key', () => {
    const { GATEHOUSE_MASTER_KEY: _omitted, ...env } = PRODUCTION;
    assertConfigError(() => loadConfig({ env }), 'GATEHOUSE_MASTER_KEY', /required in production.*openssl rand/);
  });

  it('requires an SMTP URL (verification and reset mails have no dev outbox)', () => {
    const { GATEHOUSE_SMTP_URL: _omitted, ...env } = PRODUCTION;
    assertConfigError(() => loadConfig({ env }), 'GATEHOUSE_SMTP_URL', /required in production/);
  });

  it('refuses a short master key without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    const error = assertConfigError(() => loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: short } }), 'GATEHOUSE_MASTER_KEY', /too short \(16 bytes; at least 32/);
    assert.ok(!error.message.includes(short), 'the key value must not appear in the message');
  });

  it('refuses a short master key in development too, and from the file, without echoing it', () => {
    const short = randomBytes(31).toString('base64');
    const fromEnv = assertConfigError(() => loadConfig({ env: { GATEHOUSE_MASTER_KEY: short } }), 'GATEHOUSE_MASTER_KEY', /too short/);
    assert.ok(!fromEnv.message.includes(short));
    const fromFile = assertConfigError(() => loadConfig({ env: {}, configFile: configFile({ masterKey: short }) }), /^masterKey \(in .*\)$/, /too short/);
    assert.ok(!fromFile.message.includes(short));
  });

  it('refuses a hex master key shorter than 32 bytes', () => {
    for (const bytes of [22, 24, 31]) {
      assertConfigError(() => loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: randomBytes(bytes).toString('hex') } }), 'GATEHOUSE_MASTER_KEY', /too short/);
    }
  });

  it('refuses a master key that is not base64 or hex, without echoing it', () => {
    const garbage = `${'x'.repeat(40)}!$%`;
    const error = assertConfigError(() => loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: garbage } }), 'GATEHOUSE_MASTER_KEY', /base64/);
    assert.ok(!error.message.includes(garbage));
  });

  it('refuses a plain-http public URL other than localhost', () => {
    for (const url of ['http://auth.example.com', 'http://10.0.0.5:3000', 'http://localhost.example.com']) {
      assertConfigError(() => loadConfig({ env: { ...PRODUCTION, GATEHOUSE_PUBLIC_URL: url } }), 'GATEHOUSE_PUBLIC_URL', /https/);
    }
  });

  it('accepts the default public URL (http://localhost:<port>)', () => {
    const { GATEHOUSE_PUBLIC_URL: _omitted, ...env } = PRODUCTION;
    assert.equal(loadConfig({ env }).publicUrl, 'http://localhost:3000');
  });

  it('allows http://localhost and loopback addresses', () => {
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'http://auth.localhost']) {
      assert.equal(loadConfig({ env: { ...PRODUCTION, GATEHOUSE_PUBLIC_URL: url } }).publicUrl, url);
    }
  });

  it('loads a valid production configuration (base64 or hex key)', () => {
    const config = loadConfig({ env: PRODUCTION });
    assert.equal(config.env, 'production');
    assert.equal(config.publicUrl, 'https://auth.example.com');
    assert.equal(config.masterKey, MASTER_KEY);
    const hex = randomBytes(32).toString('hex');
    assert.equal(loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: hex } }).masterKey, hex);
    const base64url = randomBytes(48).toString('base64url');
    assert.equal(loadConfig({ env: { ...PRODUCTION, GATEHOUSE_MASTER_KEY: base64url } }).masterKey, base64url);
  });
});

describe('every problem at once', () => {
  it('production with nothing set names the master key and SMTP together, one line each', () => {
    let caught: unknown;
    try {
      loadConfig({ env: { GATEHOUSE_ENV: 'production' } });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigProblems, `expected ConfigProblems, got ${String(caught)}`);
    assert.ok(caught instanceof ConfigError, 'still a ConfigError for callers that catch one');
    assert.deepEqual(caught.problems.map((problem) => problem.key), ['GATEHOUSE_MASTER_KEY', 'GATEHOUSE_SMTP_URL']);
    const lines = caught.message.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^GATEHOUSE_MASTER_KEY: required in production/);
    assert.match(lines[1]!, /^GATEHOUSE_SMTP_URL: required in production/);
  });

  it('collects unknown variables, unknown file keys, invalid values and production rules in one throw', () => {
    const short = randomBytes(16).toString('base64');
    let caught: unknown;
    try {
      loadConfig({
        env: { GATEHOUSE_ENV: 'production', GATEHOUSE_PROT: '1', GATEHOUSE_PORT: 'eighty', GATEHOUSE_MASTER_KEY: short, GATEHOUSE_PUBLIC_URL: 'http://auth.example.com' },
        configFile: configFile({ colour: 'blue' }),
      });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigProblems, `expected ConfigProblems, got ${String(caught)}`);
    const keys = caught.problems.map((problem) => problem.key);
    assert.deepEqual(keys.slice(0, 2), ['GATEHOUSE_PROT', keys[1]]);
    assert.match(keys[1]!, /^colour \(in .*\)$/);
    for (const key of ['GATEHOUSE_PORT', 'GATEHOUSE_MASTER_KEY', 'GATEHOUSE_SMTP_URL', 'GATEHOUSE_PUBLIC_URL']) assert.ok(keys.includes(key), `names ${key}: ${keys.join(', ')}`);
    assert.equal(keys.filter((key) => key === 'GATEHOUSE_MASTER_KEY').length, 1, 'a refused master key is not also reported as missing');
    assert.equal(caught.message.split('\n').length, caught.problems.length, 'one line per problem');
    assert.ok(!caught.message.includes(short), 'the refused key is not echoed');
  });

  it('a single problem is still thrown as the plain ConfigError', () => {
    const { GATEHOUSE_SMTP_URL: _omitted, ...env } = PRODUCTION;
    const error = assertConfigError(() => loadConfig({ env }), 'GATEHOUSE_SMTP_URL');
    assert.ok(!(error instanceof ConfigProblems));
  });
});

describe('redactedConfig', () => {
  const DATABASE_PASSWORD = 'db-pass-9f3a71';
  const REDIS_PASSWORD = 'redis-pass-77c1e0';

  it('never contains the master key or a database, Redis or SMTP password', () => {
    const config = loadConfig({
      env: {
        ...PRODUCTION,
        GATEHOUSE_DATABASE_URL: `postgres://gatehouse:${DATABASE_PASSWORD}@db.internal:5432/gatehouse`,
        GATEHOUSE_REDIS_URL: `redis://:${REDIS_PASSWORD}@redis.internal:6379/0`,
      },
    });
    const redacted = redactedConfig(config);
    const text = JSON.stringify(redacted);
    for (const secret of [MASTER_KEY, DATABASE_PASSWORD, REDIS_PASSWORD, SMTP_PASSWORD]) {
      assert.ok(!text.includes(secret), `redacted config contains a secret: ${text}`);
    }
    assert.equal(redacted.masterKey, '[redacted]');
    // Still useful to an operator: which host, user and database.
    assert.match(String(redacted.databaseUrl), /^postgres:\/\/gatehouse:.+@db\.internal:5432\/gatehouse$/);
    assert.match(String(redacted.redisUrl), /@redis\.internal:6379\/0$/);
    assert.equal(redacted.port, config.port);
  });

  it('redacts a percent-encoded password (raw and decoded forms)', () => {
    const raw = 'p%40ss%2Fw0rd-x1';
    const config = loadConfig({ env: { GATEHOUSE_DATABASE_URL: `postgres://gatehouse:${raw}@db/gatehouse` } });
    const text = JSON.stringify(redactedConfig(config));
    assert.ok(!text.includes(raw) && !text.includes(decodeURIComponent(raw)), text);
  });

  it('keeps an embedded SQLite URL and unset secrets as they are', () => {
    const redacted = redactedConfig(loadConfig({ env: {} }));
    assert.equal(redacted.databaseUrl, 'sqlite:./data/gatehouse.db');
    assert.equal(redacted.masterKey, undefined);
    assert.equal(redacted.redisUrl, undefined);
  });

  it('redacts a password given as a query parameter (pg and ioredis both honour ?password=)', () => {
    const config = loadConfig({
      env: {
        GATEHOUSE_DATABASE_URL: `postgres://gatehouse@db/gatehouse?password=${DATABASE_PASSWORD}`,
        GATEHOUSE_REDIS_URL: `redis://redis:6379/0?password=${REDIS_PASSWORD}`,
      },
    });
    const text = JSON.stringify(redactedConfig(config));
    assert.ok(!text.includes(DATABASE_PASSWORD) && !text.includes(REDIS_PASSWORD), text);
  });
});
