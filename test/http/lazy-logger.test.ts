/**
 * Per-request loggers are made lazily (src/http/logging.ts): a request that logs nothing at an
 * enabled level never builds a pino child, one that does logs with its request id bound, and the
 * redaction rules still apply to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { lazyChildLoggerFactory, loggerOptions } from '../../src/http/logging.ts';

async function appLogging(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  let counter = 0;
  const app = Fastify({ logger: loggerOptions({ level, stream }), childLoggerFactory: lazyChildLoggerFactory, genReqId: () => `req-${++counter}`, disableRequestLogging: true });
  app.get('/quiet', async (request) => {
    request.log.debug('not at this level');
    return { ok: true };
  });
  app.get('/loud', async (request) => {
    request.log.info({ password: 'hunter2-should-not-leak' }, 'info line');
    request.log.warn('warn line');
    request.log.child({ step: 'nested' }).error('nested line');
    return { enabled: (request.log as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('info') };
  });
  await app.ready();
  return { app, lines };
}

test('at warn: info and debug write nothing; warn and error carry the request id', async () => {
  const { app, lines } = await appLogging('warn');
  assert.equal((await app.inject({ url: '/quiet' })).statusCode, 200);
  const response = await app.inject({ url: '/loud' });
  assert.deepEqual(response.json(), { enabled: false });
  assert.deepEqual(lines.map((line) => line.msg), ['warn line', 'nested line']);
  assert.equal(lines[0]!.reqId, 'req-2');
  assert.equal(lines[1]!.reqId, 'req-2');
  assert.equal(lines[1]!.step, 'nested');
  await app.close();
});

test('at info: info lines appear, with the request id and redaction', async () => {
  const { app, lines } = await appLogging('info');
  const response = await app.inject({ url: '/loud' });
  assert.deepEqual(response.json(), { enabled: true });
  const info = lines.find((line) => line.msg === 'info line');
  assert.ok(info);
  assert.equal(info.reqId, 'req-1');
  assert.ok(!JSON.stringify(lines).includes('hunter2'), 'the password field is redacted');
  await app.close();
});
