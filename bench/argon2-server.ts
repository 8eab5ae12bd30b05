/**
 * The floor for W5: a bare `node:http` server whose `POST /verify` does one argon2id verification
 * (@node-rs/argon2, m=19 MiB t=2 p=1 — Gatehouse's defaults, the same library and thread pool)
 * of the bench password and answers `{"user":true}`. Issue 8 wants Gatehouse's sign-in at ≥ 90 %
 * of this rate, measured in the same run (bench/peers/argon2-raw.mjs, and `npm run bench`).
 *
 * Env: PORT, HOST (loopback).
 */
import { createServer } from 'node:http';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

// Algorithm.Argon2id (a const enum, which isolated modules cannot read from a .d.ts).
const ARGON2ID = 2 as Algorithm;

const port = Number(process.env.PORT ?? 4111);
const host = process.env.HOST ?? '127.0.0.1';
const password = 'correct horse battery staple';
const stored = await hash(password, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/healthz') {
    response.setHeader('content-type', 'application/json');
    response.end('{"ok":true}');
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let candidate = '';
    try {
      candidate = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { password?: unknown }).password ?? '');
    } catch {
      // wrong body: verified as an empty password, refused
    }
    verify(stored, candidate).then(
      (ok) => {
        response.statusCode = ok ? 200 : 401;
        response.setHeader('content-type', 'application/json');
        response.end(ok ? '{"user":true}' : '{"error":"invalid_credentials"}');
      },
      () => {
        response.statusCode = 500;
        response.end('{}');
      },
    );
  });
});
server.listen(port, host);
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
