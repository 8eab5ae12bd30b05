/**
 * `GET /api/revocations/stream`: Server-Sent Events of revocations for resource servers
 * (confidential clients, HTTP Basic), read with `fetch` from a real listening server. Revoking a
 * refresh token, an access token, signing a first-party session out or changing the password
 * reaches the stream as `event: revocation` with kind `grant`, `jti` or `session`; a reconnect
 * resumes after `Last-Event-ID`. Every stream is aborted at the end of its test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { PASSWORD } from '../support/auth.ts';
import { SECRETS, basic, claims, clientToken, listeningApp, nativeSignIn, readEvents, revocationData, type SSEEvent } from '../support/oauth.ts';

/** Generous bound for an event to arrive (the cross-instance "within 1 s" lives in the e2e test). */
const ARRIVAL_MS = 5000;

describe('revocation stream (SSE) for resource servers', () => {
  let t: TestApp;
  let base: string;
  const open = new Set<{ close(): Promise<void> }>();
  before(async () => {
    ({ t, base } = await listeningApp());
  });
  after(async () => {
    for (const stream of open) await stream.close();
    await t.close();
  });

  async function connect(headers: Record<string, string> = { authorization: basic('rs', SECRETS.rs!) }) {
    const abort = new AbortController();
    const response = await fetch(`${base}/api/revocations/stream`, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    assert.equal(response.status, 200, await (response.status === 200 ? Promise.resolve('') : response.text()));
    const stream = readEvents(response, abort);
    open.add(stream);
    // The server says when the backlog is sent and live events follow.
    const deadline = Date.now() + ARRIVAL_MS;
    while (!stream.comments.includes('ready') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(stream.comments.includes('ready'), 'the stream announced it is live');
    return { response, stream };
  }

  const post = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params).toString() });
  const matching = (kind: string, value: string) => (event: SSEEvent) => event.event === 'revocation' && revocationData(event).kind === kind && revocationData(event).value === value;

  it('refuses callers that are not authenticated confidential clients', async () => {
    const cases: [string, Record<string, string>][] = [
      ['no credentials', {}],
      ['wrong secret', { authorization: basic('rs', 'wrong') }],
      ['unknown client', { authorization: basic('nobody', 'x') }],
      ['a public client', { authorization: basic('mobile', 'anything') }],
      ['a bearer token', { authorization: `Bearer ${await clientToken(t, 'svc')}` }],
    ];
    for (const [what, headers] of cases) {
      const response = await fetch(`${base}/api/revocations/stream`, { headers });
      assert.ok([401, 403].includes(response.status), `${what}: ${response.status}`);
      assert.doesNotMatch(String(response.headers.get('content-type')), /event-stream/, what);
      await response.body?.cancel();
    }
    const publicQuery = await fetch(`${base}/api/revocations/stream?client_id=mobile`);
    assert.ok([401, 403].includes(publicQuery.status), `public client by client_id: ${publicQuery.status}`);
    await publicQuery.body?.cancel();
  });

  it('a resource server gets text/event-stream, no-store; revoking a refresh token sends kind grant', async () => {
    const { response, stream } = await connect();
    assert.match(String(response.headers.get('content-type')), /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const native = await nativeSignIn(t, 'stream-grant@example.com');
    const revoked = await post('/oauth/revoke', { token: native.refresh_token, client_id: 'mobile' });
    assert.equal(revoked.status, 200);
    const event = await stream.next(matching('grant', native.gid), ARRIVAL_MS);
    assert.ok(event, 'a grant revocation arrived');
    assert.match(String(event.id), /^\d+$/, 'event ids are revocation times');
    const data = revocationData(event);
    assert.ok(data.expires_at >= Number(claims(native.access_token).exp), 'the revocation covers the access tokens’ lifetime');
    assert.ok(!event.data.includes(native.refresh_token) && !event.data.includes(native.access_token), 'no token in the stream');
    await stream.close();
  });

  it('revoking an access token sends kind jti until the token’s exp', async () => {
    const { stream } = await connect();
    const token = await clientToken(t, 'svc');
    assert.equal((await post('/oauth/revoke', { token }, { authorization: basic('svc', SECRETS.svc!) })).status, 200);
    const jti = String(claims(token).jti);
    const event = await stream.next(matching('jti', jti), ARRIVAL_MS);
    assert.ok(event, 'a jti revocation arrived');
    assert.ok(revocationData(event).expires_at >= Number(claims(token).exp), 'the revocation lasts at least as long as the token');
    await stream.close();
  });

  it('ending a first-party session sends kind session (its sid) and kind grant', async () => {
    const { stream } = await connect();
    const native = await nativeSignIn(t, 'stream-session@example.com');
    const deleted = await fetch(`${base}/api/auth/sessions/${native.sid}`, { method: 'DELETE', headers: { cookie: native.cookie, origin: base } });
    assert.equal(deleted.status, 204);
    assert.ok(await stream.next(matching('session', native.sid), ARRIVAL_MS), 'a session revocation arrived');
    assert.ok(await stream.next(matching('grant', native.gid), ARRIVAL_MS), 'and its grant');
    await stream.close();
  });

  it('a password change sends the user’s grants', async () => {
    const { stream } = await connect();
    const native = await nativeSignIn(t, 'stream-password@example.com');
    const changed = await fetch(`${base}/api/auth/change-password`, {
      method: 'POST',
      headers: { cookie: native.cookie, origin: base, 'content-type': 'application/json' },
      body: JSON.stringify({ current_password: PASSWORD, new_password: 'stream passphrase changed 9' }),
    });
    assert.equal(changed.status, 200, await changed.text());
    assert.ok(await stream.next(matching('grant', native.gid), ARRIVAL_MS), 'the grant revocation arrived');
    await stream.close();
  });

  it('a new connection receives every live revocation first; Last-Event-ID resumes after the given event', async () => {
    const first = await nativeSignIn(t, 'resume-1@example.com');
    assert.equal((await post('/oauth/revoke', { token: first.refresh_token, client_id: 'mobile' })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await nativeSignIn(t, 'resume-2@example.com');
    assert.equal((await post('/oauth/revoke', { token: second.refresh_token, client_id: 'mobile' })).status, 200);

    // Backlog: both, already before "ready".
    const { stream: backlog } = await connect();
    const firstEvent = backlog.events.find(matching('grant', first.gid));
    const secondEvent = backlog.events.find(matching('grant', second.gid));
    assert.ok(firstEvent && secondEvent, 'the backlog holds both live revocations');
    await backlog.close();

    // While disconnected, a third revocation happens.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const third = await nativeSignIn(t, 'resume-3@example.com');
    assert.equal((await post('/oauth/revoke', { token: third.refresh_token, client_id: 'mobile' })).status, 200);

    const { stream: resumed } = await connect({ authorization: basic('rs', SECRETS.rs!), 'last-event-id': secondEvent.id! });
    assert.ok(await resumed.next(matching('grant', third.gid), ARRIVAL_MS), 'the revocation missed while disconnected arrives');
    assert.equal(resumed.events.find(matching('grant', first.gid)), undefined, 'nothing older than Last-Event-ID is sent again');
    // And live events keep coming on the resumed stream.
    const fourth = await nativeSignIn(t, 'resume-4@example.com');
    assert.equal((await post('/oauth/revoke', { token: fourth.refresh_token, client_id: 'mobile' })).status, 200);
    assert.ok(await resumed.next(matching('grant', fourth.gid), ARRIVAL_MS));
    await resumed.close();
  });

  it('a garbage Last-Event-ID is treated as none (full backlog), never an error', async () => {
    for (const id of ['abc', '-5', '1e400', '', '0']) {
      const { stream } = await connect({ authorization: basic('rs', SECRETS.rs!), 'last-event-id': id });
      await stream.close();
    }
  });

  it('a client that disconnects while its backlog is being prepared leaves no subscription behind (grey-box)', async () => {
    const local = await listeningApp();
    try {
      const store = local.t.storage.ephemeral;
      const original = store.subscribe.bind(store);
      let live = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // Count revocation subscriptions, and hold the server between subscribing and the backlog.
      store.subscribe = async (channel, handler) => {
        const unsubscribe = await original(channel, handler);
        if (channel !== 'revocations') return unsubscribe;
        live++;
        await gate;
        return async () => {
          live--;
          await unsubscribe();
        };
      };
      const abort = new AbortController();
      const response = await fetch(`${local.base}/api/revocations/stream`, { headers: { authorization: basic('rs', SECRETS.rs!) }, signal: abort.signal });
      assert.equal(response.status, 200);
      assert.equal(live, 1);
      abort.abort();
      await response.body?.cancel().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      const deadline = Date.now() + ARRIVAL_MS;
      while (live > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(live, 0, 'the subscription of a stream whose client is gone is released');
    } finally {
      await local.t.close();
    }
  });

  it('closing the server ends open streams (the test process does not hang)', async () => {
    const local = await listeningApp();
    const abort = new AbortController();
    const response = await fetch(`${local.base}/api/revocations/stream`, { headers: { authorization: basic('rs', SECRETS.rs!) }, signal: abort.signal });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const closed = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })().catch(() => true);
    const closing = local.t.close();
    const ended = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ARRIVAL_MS))]);
    abort.abort();
    await closing;
    assert.equal(ended, true, 'the stream ended when the server closed');
  });
});
