/**
 * docs/prometheus-rules.yml: Prometheus accepts it (`promtool check rules`), and every metric it
 * alerts on is one the server really exports — a renamed metric must not silence an alert.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestApp } from '../support/app.ts';
import { createOAuthApp } from '../support/oauth.ts';
import { promtool, promtoolSkip } from '../support/promtool.ts';

const RULES = join(import.meta.dirname, '..', '..', 'docs', 'prometheus-rules.yml');

describe('docs/prometheus-rules.yml', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp();
  });
  after(() => t.close());

  it('promtool check rules accepts it', { skip: promtoolSkip() }, () => {
    const result = promtool(['check', 'rules', RULES]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: \d+ rules found/);
  });

  it('alerts only on metrics that /metrics exports', async () => {
    await t.app.inject({ url: '/healthz' });
    const exposition = (await t.app.inject({ url: '/metrics' })).body;
    const families = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [name!, `${name!}_bucket`, `${name!}_sum`, `${name!}_count`] : [name!])));
    const referenced = new Set(readFileSync(RULES, 'utf8').match(/\bgatehouse_[a-z0-9_]+/g));
    assert.ok(referenced.size >= 8, 'the rules use the auth metrics');
    for (const name of referenced) assert.ok(families.has(name), `${name} is exported`);
  });
});
