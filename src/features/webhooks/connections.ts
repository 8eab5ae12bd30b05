import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { DestinationGuard } from './destination.ts';

/** At most this many connections per destination (host and port) at once; more requests wait for one. */
export const MAX_SOCKETS_PER_DESTINATION = 20;
/** Idle connections kept per destination. */
export const MAX_IDLE_SOCKETS_PER_DESTINATION = 4;
/** An idle connection is closed after this long (below the 5 s keep-alive of Node's own servers). */
export const IDLE_TIMEOUT_MS = 4000;
/** A connection is not reused once this old, however busy: a destination's new DNS answers are picked up within it. */
export const MAX_SOCKET_AGE_MS = 60_000;

export interface ConnectionPool {
  agentFor(protocol: string): HttpAgent;
  /** Closes every connection (the worker's stop). */
  close(): void;
}

/**
 * Keep-alive connections for the deliveries of one outbox, one pool per destination (what an
 * Agent keeps per host and port). Every socket is opened through the guard's `lookup`, i.e. to an
 * address checked at connect time (docs/webhooks.md, "Safe by default"): an open connection's peer
 * cannot change, so reusing it keeps the check, and skips a TCP and TLS handshake per delivery.
 * The pool belongs to one guard: a socket opened under one set of rules is never reused under another.
 */
export function createConnectionPool(guard: DestinationGuard, now: () => number = () => performance.now()): ConnectionPool {
  const options = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_DESTINATION, maxFreeSockets: MAX_IDLE_SOCKETS_PER_DESTINATION, timeout: IDLE_TIMEOUT_MS, scheduling: 'lifo' as const, lookup: guard.lookup as never };
  const agents = { 'http:': new HttpAgent(options), 'https:': new HttpsAgent(options) };
  const born = new WeakMap<Socket, number>();
  for (const agent of Object.values(agents)) {
    const create = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket;
    const keep = agent.keepSocketAlive.bind(agent);
    (agent as { createConnection: unknown }).createConnection = (...args: unknown[]) => {
      const socket = create(...args);
      born.set(socket, now());
      return socket;
    };
    agent.keepSocketAlive = (socket) => {
      const at = born.get(socket as Socket);
      if (at === undefined || now() - at >= MAX_SOCKET_AGE_MS) return false;
      return keep(socket);
    };
  }
  return {
    agentFor: (protocol) => (protocol === 'https:' ? agents['https:'] : agents['http:']),
    close: () => {
      for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}
