/**
 * One URL (issue 15): the server prints one address to browse, its public URL, and binds where
 * that URL points by default, so the page an operator opens and the links in mails share their
 * cookies. With GATEHOUSE_PORT=0 the printed URL names the bound port and answers.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { announcedUrl } from '../../src/main.ts';
import { spawnServer, waitForStatus, type SpawnedServer } from '../support/spawn-server.ts';

const directories: string[] = [];
const servers: SpawnedServer[] = [];
after(async () => {
  await Promise.allSettled(servers.map((server) => server.stop('SIGKILL', 5000)));
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describe('one URL', () => {
  it('defaults: bind localhost, public URL http://localhost:<port>, so both name the same host', () => {
    const config = loadConfig({ env: { GATEHOUSE_PORT: '4100' } });
    assert.equal(config.host, 'localhost');
    assert.equal(config.publicUrl, 'http://localhost:4100');
    assert.equal(announcedUrl(config.publicUrl, 4100), 'http://localhost:4100');
  });

  it('announcedUrl: the public URL as configured; port 0 becomes the bound port', () => {
    assert.equal(announcedUrl('https://auth.example.com', 8080), 'https://auth.example.com');
    assert.equal(announcedUrl('http://localhost:0', 41234), 'http://localhost:41234');
    assert.equal(announcedUrl('http://localhost:0/auth', 41234), 'http://localhost:41234/auth');
    assert.equal(announcedUrl('http://localhost:0', undefined), 'http://localhost:0');
  });

  it('a spawned server with GATEHOUSE_PORT=0 prints exactly one http URL, "Gatehouse is ready at http://localhost:<port>", and it answers', { timeout: 60_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-one-url-'));
    directories.push(cwd);
    const server = await spawnServer({ cwd, env: { GATEHOUSE_LOG_LEVEL: 'info' } });
    servers.push(server);
    assert.match(server.url, /^http:\/\/localhost:[1-9]\d*$/);
    await waitForStatus(`${server.url}/healthz`, 200, { timeoutMs: 10_000 });
    const start = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(start.status, 200, 'the printed URL serves the start page');

    const messages = server.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
    const urls = messages.flatMap((message) => message.match(/https?:\/\/\S+/g) ?? []);
    assert.deepEqual(urls, [server.url], `only the ready line names a URL; log messages: ${messages.join(' | ')}`);
    assert.ok(messages.some((message) => /^bound to (127\.0\.0\.1|\[::1\]):\d+$/.test(message)), 'the bind address is logged without a scheme');
    assert.equal(await server.stop('SIGTERM'), 0);
  });
});
