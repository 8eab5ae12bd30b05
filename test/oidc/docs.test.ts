/**
 * docs/oauth.md as written: the `gatehouse clients create` command registers the client the
 * guide connects (run as an operator would, in a fresh directory), and the JavaScript snippets
 * are valid modules. The flows themselves run in openid-client.test.ts and passport.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../support/spawn-server.ts';

const guide = readFileSync(new URL('../../docs/oauth.md', import.meta.url), 'utf8');
const blocks = (language: string) => [...guide.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);

/** Splits a shell command into words (quotes, backslash-newline continuations; stops at the first plain newline). */
function words(command: string): string[] {
  const joined = command.replace(/\\\n\s*/g, ' ').split('\n')[0]!;
  return [...joined.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3]!);
}

describe('docs/oauth.md', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-oauth-docs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the registration command works as written and makes the client the guide connects', async () => {
    const command = blocks('sh').find((block) => block.includes('gatehouse clients create'));
    assert.ok(command, 'the guide has a clients create command');
    const argv = words(command.slice(command.indexOf('gatehouse clients create')));
    assert.equal(argv[0], 'gatehouse');
    const created = await runCli(argv.slice(1), { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /client_secret \(shown once\): \S{40,}/);
    const shown = await runCli(['clients', 'show', 'my-web-app', '--json'], { cwd: dir });
    assert.equal(shown.code, 0, shown.stderr);
    const client = JSON.parse(shown.stdout) as { grant_types: string[]; redirect_uris: string[]; post_logout_redirect_uris: string[]; scopes: string[]; type: string };
    assert.deepEqual([...client.grant_types].sort(), ['authorization_code', 'refresh_token']);
    assert.deepEqual(client.redirect_uris, ['http://localhost:4000/callback']);
    assert.deepEqual(client.post_logout_redirect_uris, ['http://localhost:4000/']);
    assert.equal(client.type, 'confidential');
    // Every application URL the snippets use is one the command registered.
    for (const block of blocks('js')) {
      for (const url of block.match(/http:\/\/localhost:4000\/[a-z]*/g) ?? []) {
        assert.ok([...client.redirect_uris, ...client.post_logout_redirect_uris].includes(url), `${url} is registered`);
      }
    }
  });

  it('the JavaScript snippets are valid modules', () => {
    const snippets = blocks('js');
    assert.ok(snippets.length >= 2, 'openid-client and Passport snippets');
    snippets.forEach((snippet, index) => {
      const file = join(dir, `snippet-${index}.mjs`);
      writeFileSync(file, snippet);
      const result = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      assert.equal(result.status, 0, `snippet ${index}: ${result.stderr}`);
    });
  });
});
