/**
 * `npm run bench:kit` — what the resource-server kit costs per request (issue: "Speed").
 *
 * 1. In-process: `authenticate()` of one ES256 access token from a real Gatehouse, against the
 *    raw `node:crypto` verify of the same token's signature in the same run (pre-decoded
 *    buffers and an already imported key: the bare cryptographic floor). Measured with the
 *    verified-token cache off (every call does the full pipeline) and on (the default).
 * 2. Express: the kit's `requireScope` middleware vs a jsonwebtoken HS256 middleware in the
 *    same Express app — invoked in-process per request (auth cost alone), then under loopback
 *    HTTP load with a bounded request count (whole-request throughput).
 *
 * Rounds alternate between the contenders and the median round is reported; timings never go
 * into tests. Environment: BENCH_ITERATIONS (default 20000), BENCH_REQUESTS (default 20000).
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { request as httpRequest, Agent, type Server } from 'node:http';
import { cpus } from 'node:os';
import express from 'express';
import jwt from 'jsonwebtoken';
import { listeningApp, clientToken, API, SECRETS } from '../test/support/oauth.ts';
import { createAuthenticator, type Authenticator } from '../packages/middleware/src/index.ts';
import { createExpressAuth, type ExpressLikeRequest, type ExpressLikeResponse } from '../packages/middleware/src/express.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const ROUNDS = 7;
const CONCURRENCY = 32;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const us = (ns: number): string => `${(ns / 1000).toFixed(2)} µs`;

/** Median per-operation time (ns) of each contender over alternating rounds. */
async function compare(contenders: Record<string, () => unknown | Promise<unknown>>, iterations: number): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (const run of Object.values(contenders)) for (let i = 0; i < 2000; i++) await run(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await run();
      samples[name]!.push(Number(process.hrtime.bigint() - start) / iterations);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

const { t, base } = await listeningApp();
const kits: Authenticator[] = [];
const kit = (cacheSize: number): Authenticator => {
  const made = createAuthenticator({ issuer: base, audience: API, revocations: { clientId: 'rs', clientSecret: SECRETS.rs! }, verifiedTokenCacheSize: cacheSize });
  kits.push(made);
  return made;
};
const cold = kit(0);
const cached = kit(1000);
await Promise.all([cold.ready(), cached.ready()]);

const token = await clientToken(t, 'svc', { scope: 'read' });
const [headerSegment, payloadSegment, signatureSegment] = token.split('.') as [string, string, string];
const { kid } = JSON.parse(Buffer.from(headerSegment, 'base64url').toString()) as { kid: string };
const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
const publicKey = createPublicKey({ key: jwks.keys.find((key) => key.kid === kid)!, format: 'jwk' });
const signingInput = Buffer.from(`${headerSegment}.${payloadSegment}`);
const signature = Buffer.from(signatureSegment, 'base64url');
const keyInput = { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
const headers = { authorization: `Bearer ${token}` };
if (!verify('sha256', signingInput, keyInput, signature) || !(await cold.authenticate(headers)).ok || !(await cached.authenticate(headers)).ok) throw new Error('the token does not verify');

console.log(`# gatehouse/middleware benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`\n## 1. authenticate() of one ES256 access token, in-process (${ROUNDS} rounds × ${ITERATIONS}, median)\n`);
const inProcess = await compare({
  raw: () => verify('sha256', signingInput, keyInput, signature),
  kitCold: () => cold.authenticate(headers),
  kitCached: () => cached.authenticate(headers),
}, ITERATIONS);
console.log('| what | per call | × raw verify |\n|---|---|---|');
console.log(`| raw node:crypto verify (pre-decoded, key imported) | ${us(inProcess.raw!)} | 1.00 |`);
console.log(`| kit authenticate, verified-token cache off | ${us(inProcess.kitCold!)} | ${(inProcess.kitCold! / inProcess.raw!).toFixed(2)} |`);
console.log(`| kit authenticate, cache on (default; same token again) | ${us(inProcess.kitCached!)} | ${(inProcess.kitCached! / inProcess.raw!).toFixed(2)} |`);

// ---------------------------------------------------------------------------------------------
// 2. Express: kit (ES256) vs jsonwebtoken (HS256)
const HS_SECRET = 'bench-hs256-secret-0123456789abcdef0123456789abcdef';
const hsToken = jwt.sign({ sub: 'client:svc', client_id: 'svc', scope: 'read', jti: 'x' }, HS_SECRET, { algorithm: 'HS256', issuer: base, audience: API, expiresIn: 600 });
type Middleware = (req: ExpressLikeRequest, res: ExpressLikeResponse, next: (error?: unknown) => void) => void;
/** The usual hand-written jsonwebtoken middleware. */
const jsonwebtokenMiddleware: Middleware = (req, res, next) => {
  const match = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''));
  try {
    if (!match) throw new Error('no token');
    const claims = jwt.verify(match[1]!, HS_SECRET, { algorithms: ['HS256'], issuer: base, audience: API }) as jwt.JwtPayload;
    if (!String(claims.scope ?? '').split(' ').includes('read')) throw new Error('scope');
    (req as { auth?: unknown }).auth = claims;
    next();
  } catch {
    res.statusCode = 401;
    res.end('{"error":"invalid_token"}');
  }
};
const kitMiddleware = (authenticator: Authenticator): Middleware => createExpressAuth(authenticator).requireScope('read');
const contenders: Record<string, { middleware: Middleware; token: string }> = {
  'kit ES256, cache off': { middleware: kitMiddleware(cold), token },
  'kit ES256, cache on (default)': { middleware: kitMiddleware(cached), token },
  'jsonwebtoken HS256': { middleware: jsonwebtokenMiddleware, token: hsToken },
};

console.log(`\n## 2a. Express middleware invoked in-process (${ROUNDS} rounds × ${ITERATIONS}, median)\n`);
const fakeResponse: ExpressLikeResponse = { statusCode: 200, headersSent: false, setHeader: () => undefined, end: () => { throw new Error('refused'); } };
const invoke = (middleware: Middleware, bearer: string) => () =>
  new Promise<void>((resolve, reject) => middleware({ headers: { authorization: `Bearer ${bearer}` } }, fakeResponse, (error) => (error ? reject(error) : resolve())));
const direct = await compare(Object.fromEntries(Object.entries(contenders).map(([name, { middleware, token: bearer }]) => [name, invoke(middleware, bearer)])), ITERATIONS);
const hsDirect = direct['jsonwebtoken HS256']!;
console.log('| middleware | per request | jsonwebtoken time ÷ this |\n|---|---|---|');
for (const [name, ns] of Object.entries(direct)) console.log(`| ${name} | ${us(ns)} | ${(hsDirect / ns).toFixed(2)} |`);

console.log(`\n## 2b. Express app over loopback HTTP (${REQUESTS} requests, ${CONCURRENCY} keep-alive connections, client in the same process; median of 3)\n`);
async function serve(middleware: Middleware): Promise<{ server: Server; port: number }> {
  const app = express();
  app.get('/r', middleware as express.RequestHandler, (req, res) => {
    res.json({ ok: true });
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}
async function load(port: number, bearer: string, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (sent < count) {
      sent++;
      await new Promise<void>((resolve, reject) => {
        const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/r', agent, headers: { authorization: `Bearer ${bearer}` } }, (answer) => {
          if (answer.statusCode !== 200) reject(new Error(`status ${answer.statusCode}`));
          answer.resume();
          answer.on('end', resolve);
        });
        outgoing.on('error', reject);
        outgoing.end();
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  return count / seconds;
}
const servers = await Promise.all(Object.entries(contenders).map(async ([name, contender]) => ({ name, ...contender, ...(await serve(contender.middleware)) })));
const throughput: Record<string, number[]> = {};
for (const { port, token: bearer } of servers) await load(port, bearer, 2000); // warm-up
for (let round = 0; round < 3; round++) {
  for (const { name, port, token: bearer } of servers) (throughput[name] ??= []).push(await load(port, bearer, REQUESTS));
}
const hsRate = median(throughput['jsonwebtoken HS256']!);
console.log('| app | requests/s | ÷ jsonwebtoken |\n|---|---|---|');
for (const [name, rates] of Object.entries(throughput)) console.log(`| ${name} | ${median(rates).toFixed(0)} | ${(median(rates) / hsRate).toFixed(2)} |`);

for (const { server } of servers) server.close();
for (const made of kits) await made.close();
await t.close();
