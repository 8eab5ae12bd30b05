/**
 * The served OpenAPI document is fit for code generation: Redocly's recommended ruleset reports
 * no error, every operation has a stable, unique operationId and its security, the pages and
 * probes that used to be missing are described, and nothing internal leaks into it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestApp } from '../support/app.ts';
import { createOAuthApp } from '../support/oauth.ts';
import { OPERATIONS } from '../../src/http/openapi-operations.ts';

const REDOCLY = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'redocly');

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes?: Record<string, { type: string; scheme?: string; in?: string }> };
}

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer?: string }[];
}

/** Fastify's `/a/:id` as the document writes it, `/a/{id}`. */
function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

describe('OpenAPI document', () => {
  let t: TestApp;
  let document: Document;
  let text: string;
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-openapi-'));
  before(async () => {
    // A deployment's own URL: Redocly warns about localhost / example.com servers, rightly.
    t = await createOAuthApp({ env: { GATEHOUSE_PUBLIC_URL: 'https://auth.acme.test' } });
    const response = await t.app.inject({ url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    text = response.body;
    document = JSON.parse(text) as Document;
  });
  after(async () => {
    await t.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('redocly lint (recommended): no errors; the only warnings are probes and metadata without a 4xx', () => {
    const file = join(directory, 'openapi.json');
    writeFileSync(file, text);
    const result = spawnSync(REDOCLY, ['lint', '--extends=recommended', '--format=json', file], {
      cwd: directory,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    assert.equal(result.error, undefined, String(result.error));
    const report = JSON.parse(result.stdout) as { problems: Problem[] };
    const errors = report.problems.filter((problem) => problem.severity === 'error');
    assert.deepEqual(errors.map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer ?? ''}: ${problem.message}`), []);
    const warnings = report.problems.filter((problem) => problem.severity === 'warn').map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer ?? ''}`).sort();
    // These GETs have no client error to describe: no parameters, no authentication.
    const expected = ['/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']
      .map((path) => `operation-4xx-response #/paths/${path.replace(/\//g, '~1')}/get/responses`)
      .sort();
    assert.deepEqual(warnings, expected);
  });

  it('every operation has a unique operationId and security; the table’s ids are the ones served', () => {
    const seen = new Map<string, string>();
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(operation.operationId, `${where} has an operationId`);
        assert.equal(seen.get(operation.operationId), undefined, `${operation.operationId} is unique (${where})`);
        seen.set(operation.operationId, where);
        assert.ok(Array.isArray(operation.security), `${where} declares security`);
        for (const requirement of operation.security) {
          for (const name of Object.keys(requirement)) assert.ok(document.components.securitySchemes?.[name], `${where}: scheme ${name} is defined`);
        }
      }
    }
    for (const [key, spec] of Object.entries(OPERATIONS)) {
      const [method, url] = key.split(' ') as [string, string];
      assert.equal(document.paths[openapiPath(url)]?.[method.toLowerCase()]?.operationId, spec.operationId, key);
    }
  });

  it('describes how each part of the API is authenticated', () => {
    const schemes = document.components.securitySchemes ?? {};
    assert.deepEqual({ type: schemes.session?.type, in: schemes.session?.in }, { type: 'apiKey', in: 'cookie' });
    assert.deepEqual({ type: schemes.bearer?.type, scheme: schemes.bearer?.scheme }, { type: 'http', scheme: 'bearer' });
    assert.deepEqual({ type: schemes.clientSecretBasic?.type, scheme: schemes.clientSecretBasic?.scheme }, { type: 'http', scheme: 'basic' });
    assert.deepEqual(document.paths['/oauth/userinfo']?.get?.security, [{ bearer: [] }]);
    assert.deepEqual(document.paths['/api/auth/session']?.get?.security, [{ session: [] }]);
    assert.deepEqual(document.paths['/api/auth/sign-up']?.post?.security, [], 'public');
    // client_secret_post and private_key_jwt travel in the form body: the body says how.
    const token = document.paths['/oauth/token']?.post;
    assert.deepEqual(token?.security, [{ clientSecretBasic: [] }, {}]);
    const fields = token?.requestBody?.content['application/x-www-form-urlencoded']?.schema.properties ?? {};
    for (const field of ['grant_type', 'client_id', 'client_secret', 'client_assertion_type', 'client_assertion']) assert.ok(field in fields, field);
  });

  it('includes authorize, end-session, health, JWKS and discovery; leaves out metrics and internals', () => {
    for (const path of ['/oauth/authorize', '/oauth/end-session', '/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/openid-configuration']) {
      assert.ok(document.paths[path]?.get, path);
    }
    assert.ok(document.paths['/oauth/authorize']?.get?.responses['302'], 'authorize redirects');
    assert.ok(document.paths['/readyz']?.get?.responses['503'], 'readiness can fail');
    for (const path of ['/metrics', '/openapi.json', '/dev/outbox', '/dev/outbox.json', '/oauth/authorize/consent']) assert.equal(document.paths[path], undefined, path);
  });
});
