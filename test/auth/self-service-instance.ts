/**
 * The app that serves self-service in these tests: the real one (src/app.ts registers the
 * feature). Kept as one function so the tests name what they exercise.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { TestApp } from '../support/app.ts';

export async function selfService(t: TestApp, _options: { now?: () => number } = {}): Promise<FastifyInstance> {
  assert.ok(t.app.hasRoute({ method: 'POST', url: '/api/account/email' }), 'createApp registers the self-service routes');
  return t.app;
}
