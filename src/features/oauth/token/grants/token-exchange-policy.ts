/**
 * Who may exchange whose tokens (RFC 8693 §1.1, §5: the policy is the authorization server's):
 * one entry per requesting client, from `tokenExchangePolicies` in the config.
 */
export interface TokenExchangePolicy {
  /** The client that calls the token endpoint with the exchange grant. */
  clientId: string;
  /** Clients whose tokens it may present as `subject_token`; null = any client. */
  subjectClients: ReadonlySet<string> | null;
  /** The audiences (`audience` / `resource`) it may ask for. */
  audiences: readonly string[];
  /** The most scope an exchanged token can carry (never more than the subject token's). */
  scopes: readonly string[];
  /** Whether our ID tokens are accepted as `subject_token` (their `aud` must be a subject client). */
  idTokens: boolean;
}

export class TokenExchangePolicyError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`tokenExchangePolicies${key}: ${message}`);
    this.name = 'TokenExchangePolicyError';
    this.key = key;
  }
}

function strings(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 1024)) {
    throw new TokenExchangePolicyError(key, 'must be a list of non-empty strings');
  }
  return [...value];
}

/** The configured entries as policies by client id; a wrong entry stops start-up naming its key. */
export function parseTokenExchangePolicies(entries: readonly Readonly<Record<string, unknown>>[]): ReadonlyMap<string, TokenExchangePolicy> {
  const policies = new Map<string, TokenExchangePolicy>();
  entries.forEach((entry, index) => {
    const at = (name: string) => `[${index}].${name}`;
    for (const name of Object.keys(entry)) {
      if (!['client_id', 'subject_clients', 'audiences', 'scopes', 'id_tokens'].includes(name)) throw new TokenExchangePolicyError(at(name), 'unknown member');
    }
    const clientId = entry.client_id;
    if (typeof clientId !== 'string' || clientId.length === 0) throw new TokenExchangePolicyError(at('client_id'), 'required');
    if (policies.has(clientId)) throw new TokenExchangePolicyError(at('client_id'), `${clientId} has a policy already`);
    const subjects = strings(entry.subject_clients, at('subject_clients'));
    const audiences = strings(entry.audiences, at('audiences'));
    if (audiences.length === 0) throw new TokenExchangePolicyError(at('audiences'), 'must name at least one audience');
    const idTokens = entry.id_tokens ?? false;
    if (typeof idTokens !== 'boolean') throw new TokenExchangePolicyError(at('id_tokens'), 'must be true or false');
    policies.set(clientId, {
      clientId,
      subjectClients: subjects.includes('*') ? null : new Set(subjects),
      audiences,
      scopes: entry.scopes === undefined ? [] : strings(entry.scopes, at('scopes')),
      idTokens,
    });
  });
  return policies;
}
