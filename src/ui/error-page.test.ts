import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { apiError } from '../errors/catalog.ts';
import { PAGE_GET } from './routes.ts';

describe('page error handler', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify({ logger: false });
    app.get('/boom', PAGE_GET, async () => {
      throw new Error('database password is hunter2 at /secret/path');
    });
    app.get('/limited', PAGE_GET, async () => {
      throw apiError('too_many_requests', 'Too many attempts. Try again later.', { detail: 'internal-detail-xyz', headers: { 'retry-after': '42' } });
    });
    await app.ready();
  });
  after(() => app.close());

  it('an unknown error becomes a bare 500 HTML page without its message', async () => {
    const response = await app.inject({ url: '/boom' });
    assert.equal(response.statusCode, 500);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.doesNotMatch(response.body, /hunter2|secret|Error|at /);
    assert.match(response.body, /role="alert"/);
  });

  it('an ApiError keeps its status and headers (Retry-After) and shows its description, not its detail', async () => {
    const response = await app.inject({ url: '/limited' });
    assert.equal(response.statusCode, 429);
    assert.equal(response.headers['retry-after'], '42');
    assert.match(response.body, /Too many attempts\. Try again later\./);
    assert.doesNotMatch(response.body, /internal-detail-xyz/);
  });
});
