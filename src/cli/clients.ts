import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiError } from '../errors/catalog.ts';
import { createAuditLog } from '../features/audit/audit-log.ts';
import { clientView, type Client, type ClientMetadata, type ClientType, type GrantType, type TokenEndpointAuthMethod } from '../features/clients/model.ts';
import { createClientRegistry, type ClientRegistry } from '../features/clients/registry.ts';
import { createRevocationService } from '../features/tokens/revocation.ts';
import { createSqlTokenStore } from '../features/tokens/store.ts';
import { createClientStore } from '../features/clients/store.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, CONFIG_OPTION, loadCliConfig, parseSubcommand } from './command.ts';
import { runInitialToken } from './initial-token.ts';

const HELP = `Usage: gatehouse clients <create|list|show|update|rotate-secret|delete|initial-token> [options]

  clients create --name NAME --type confidential|public [options]
      Registers an OAuth client (the same fields and rules as the admin API and the config
      file; see docs/clients.md). A generated client_secret is printed once.
        --client-id ID             choose the client_id (default: random)
        --auth-method METHOD       client_secret_basic (confidential default), client_secret_post,
                                   private_key_jwt (with --jwks-file), none (public clients)
        --grant GRANT              authorization_code (default), refresh_token, client_credentials; repeat
        --redirect-uri URI         repeat for several
        --post-logout-redirect-uri URI
        --scope SCOPE              repeat, or several separated by spaces
        --audience URI             resource servers the client's tokens are for; repeat
        --first-party              a first-party app (password sign-in for native apps, no consent)
        --jwks-file FILE           the client's public keys (JSON Web Key Set) for private_key_jwt
        --access-token-ttl SECONDS, --refresh-token-idle-ttl SECONDS, --refresh-token-absolute-ttl SECONDS
        --logo-uri URL, --client-uri URL, --policy-uri URL, --tos-uri URL
                                   shown on the sign-in and consent pages (https; "" in update: none)
        --contact EMAIL            who is responsible for the client; repeat
  clients list
      One line per client under a header row (CLIENT_ID, TYPE, AUTH_METHOD, GRANT_TYPES, SOURCE, NAME).
  clients show CLIENT_ID
  clients update CLIENT_ID [--name NAME] [--type TYPE] [--auth-method METHOD] [--grant GRANT ...]
                 [--redirect-uri URI ...] [--post-logout-redirect-uri URI ...] [--scope SCOPE ...]
                 [--audience URI ...] [--first-party | --no-first-party] [--jwks-file FILE] [ttl options]
                 [--logo-uri URL] [--client-uri URL] [--policy-uri URL] [--tos-uri URL] [--contact EMAIL ...]
      Changes the given fields (a repeated flag replaces the whole list) with the same rules as
      the admin API's PATCH; the result is validated whole. Clients from the config file are
      changed there. A switch to a secret method prints the new client_secret once.
  clients rotate-secret CLIENT_ID [--grace-period SECONDS]
      Prints the new secret once; the old one keeps working for the grace period (default 0).
  clients delete CLIENT_ID
      Deletes the client with its grants and refresh tokens.
  clients initial-token [--expires DURATION] [--uses N|unlimited]
      Prints, once, an initial access token for dynamic client registration (docs/oauth.md):
      good for --expires (3600, 30m, 24h, 7d; default 24h) and --uses registrations (default 1).

Options: --json (machine-readable output), --config FILE, --help
`;

const OPTIONS = {
  ...CONFIG_OPTION,
  json: { type: 'boolean' },
  name: { type: 'string' },
  type: { type: 'string' },
  'client-id': { type: 'string' },
  'auth-method': { type: 'string' },
  grant: { type: 'string', multiple: true },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  'first-party': { type: 'boolean' },
  'no-first-party': { type: 'boolean' },
  'jwks-file': { type: 'string' },
  'access-token-ttl': { type: 'string' },
  'refresh-token-idle-ttl': { type: 'string' },
  'refresh-token-absolute-ttl': { type: 'string' },
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  contact: { type: 'string', multiple: true },
  'grace-period': { type: 'string' },
  expires: { type: 'string' },
  uses: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export async function runClients(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { sub, values, positionals } = parsed;
  if (!['create', 'list', 'show', 'update', 'rotate-secret', 'delete', 'initial-token'].includes(sub)) throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
  if (sub === 'initial-token') return runInitialToken(values);
  const metadata = sub === 'create' ? createMetadata(values) : sub === 'update' ? updateMetadata(values) : undefined;
  const clientId = sub === 'show' || sub === 'update' || sub === 'rotate-secret' || sub === 'delete' ? onePositional(sub, positionals) : undefined;
  const gracePeriodSeconds = values['grace-period'] === undefined ? undefined : integer('--grace-period', values['grace-period']);

  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const storage = await openStorage(config);
  try {
    const db = storage.database.db;
    const audit = createAuditLog(db);
    // Deleting a client revokes its tokens where running servers and resource servers see it.
    const revocations = createRevocationService({ store: createSqlTokenStore(db), ephemeral: storage.ephemeral, audit, accessTokenMaxTtlSeconds: config.accessTokenMaxTtlSeconds });
    const registry = createClientRegistry({ store: createClientStore(db), db, audit, beforeDelete: (id) => revocations.revokeClient(id), environment: config.env });
    return await run(registry, { sub, metadata, clientId, gracePeriodSeconds, json: values.json === true });
  } catch (error) {
    // Registry errors carry a message naming the field; 4xx other than not-found/conflict are usage errors.
    if (error instanceof ApiError && error.status < 500) throw new CliError(error.description, error.status === 404 || error.status === 409 ? 1 : 2);
    throw error;
  } finally {
    await storage.close();
  }
}

async function run(registry: ClientRegistry, input: { sub: string; metadata: ClientMetadata | undefined; clientId: string | undefined; gracePeriodSeconds: number | undefined; json: boolean }): Promise<number> {
  const { json } = input;
  switch (input.sub) {
    case 'create': {
      const { client, clientSecret } = await registry.create(input.metadata!, { source: 'cli' });
      print(json, { ...clientView(client), ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) }, () =>
        `created client ${client.clientId} (${client.type}, ${client.tokenEndpointAuthMethod})\n${clientSecret === undefined ? '' : `client_secret (shown once): ${clientSecret}\n`}`);
      return 0;
    }
    case 'list': {
      const clients = await registry.list();
      print(json, { clients: clients.map(clientView) }, () => clients.length === 0 ? 'no clients\n' : `${LIST_HEADER}${clients.map(summary).join('')}`);
      return 0;
    }
    case 'show': {
      const client = await registry.get(input.clientId!);
      if (!client) throw new CliError(`no client ${input.clientId}`, 1);
      print(json, clientView(client), () => details(client));
      return 0;
    }
    case 'update': {
      const { client, clientSecret } = await registry.update(input.clientId!, input.metadata!);
      print(json, { ...clientView(client), ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) }, () =>
        `updated client ${client.clientId}\n${details(client)}${clientSecret === undefined ? '' : `client_secret (shown once): ${clientSecret}\n`}`);
      return 0;
    }
    case 'rotate-secret': {
      const options = input.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: input.gracePeriodSeconds };
      const { client, clientSecret } = await registry.rotateSecret(input.clientId!, options);
      print(json, { ...clientView(client), client_secret: clientSecret }, () =>
        `rotated the secret of ${client.clientId}${input.gracePeriodSeconds ? ` (the old one works for ${input.gracePeriodSeconds} s more)` : ''}\nclient_secret (shown once): ${clientSecret}\n`);
      return 0;
    }
    default: {
      await registry.delete(input.clientId!);
      print(json, { deleted: input.clientId }, () => `deleted client ${input.clientId}\n`);
      return 0;
    }
  }
}

/** The flags of `clients create` as the metadata the admin API takes (same names, same rules). */
function createMetadata(values: Values): ClientMetadata {
  if (values.name === undefined) throw new CliError('--name is required', 2);
  if (values.type === undefined) throw new CliError('--type is required (confidential or public)', 2);
  if (values['no-first-party']) throw new CliError('--no-first-party is for clients update (a new client is not first-party unless --first-party)', 2);
  const metadata = metadataFlags(values);
  if (values['client-id'] !== undefined) metadata.client_id = values['client-id'];
  return metadata;
}

/** The flags of `clients update`: only the fields given, as the admin API's PATCH body. */
function updateMetadata(values: Values): ClientMetadata {
  if (values['client-id'] !== undefined) throw new CliError('--client-id cannot be changed; create a new client instead', 2);
  if (values['first-party'] && values['no-first-party']) throw new CliError('give --first-party or --no-first-party, not both', 2);
  const metadata = metadataFlags(values);
  if (values['no-first-party']) metadata.first_party = false;
  if (Object.keys(metadata).length === 0) throw new CliError('clients update needs at least one field to change (see --help)', 2);
  return metadata;
}

/** The metadata flags `create` and `update` share, mapped one to one onto the admin API's fields. */
function metadataFlags(values: Values): ClientMetadata {
  const metadata: ClientMetadata = {};
  if (values.name !== undefined) metadata.name = values.name;
  if (values.type !== undefined) metadata.type = values.type as ClientType;
  if (values['auth-method'] !== undefined) metadata.token_endpoint_auth_method = values['auth-method'] as TokenEndpointAuthMethod;
  if (values.grant !== undefined) metadata.grant_types = values.grant as GrantType[];
  if (values['redirect-uri'] !== undefined) metadata.redirect_uris = values['redirect-uri'];
  if (values['post-logout-redirect-uri'] !== undefined) metadata.post_logout_redirect_uris = values['post-logout-redirect-uri'];
  if (values.scope !== undefined) metadata.scopes = values.scope.flatMap((scope) => scope.split(' ').filter(Boolean));
  if (values.audience !== undefined) metadata.audiences = values.audience;
  if (values['first-party']) metadata.first_party = true;
  if (values['access-token-ttl'] !== undefined) metadata.access_token_ttl_seconds = integer('--access-token-ttl', values['access-token-ttl']);
  if (values['refresh-token-idle-ttl'] !== undefined) metadata.refresh_token_idle_ttl_seconds = integer('--refresh-token-idle-ttl', values['refresh-token-idle-ttl']);
  if (values['refresh-token-absolute-ttl'] !== undefined) metadata.refresh_token_absolute_ttl_seconds = integer('--refresh-token-absolute-ttl', values['refresh-token-absolute-ttl']);
  if (values['jwks-file'] !== undefined) metadata.jwks = readJWKS(values['jwks-file']);
  // An empty value removes the URL (update); the registry checks the rest.
  for (const [flag, field] of BRANDING_FLAGS) {
    const value = values[flag];
    if (value !== undefined) metadata[field] = value === '' ? null : value;
  }
  if (values.contact !== undefined) metadata.contacts = values.contact.filter((contact) => contact !== '');
  return metadata;
}

const BRANDING_FLAGS = [['logo-uri', 'logo_uri'], ['client-uri', 'client_uri'], ['policy-uri', 'policy_uri'], ['tos-uri', 'tos_uri']] as const;

function readJWKS(file: string): { keys: Record<string, unknown>[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`--jwks-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 2);
  }
  try {
    return JSON.parse(text) as { keys: Record<string, unknown>[] };
  } catch {
    throw new CliError(`--jwks-file: ${file} is not JSON (expected a JSON Web Key Set: {"keys": [ … ]})`, 2);
  }
}

function integer(flag: string, text: string): number {
  if (!/^\d{1,12}$/.test(text)) throw new CliError(`${flag} must be a whole number of seconds`, 2);
  return Number(text);
}

function onePositional(sub: string, positionals: string[]): string {
  if (positionals.length !== 1 || positionals[0] === '') throw new CliError(`clients ${sub} needs exactly one CLIENT_ID`, 2);
  return positionals[0]!;
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}

const LIST_HEADER = 'CLIENT_ID\tTYPE\tAUTH_METHOD\tGRANT_TYPES\tSOURCE\tNAME\n';

function summary(client: Client): string {
  return `${client.clientId}\t${client.type}\t${client.tokenEndpointAuthMethod}\t${client.grantTypes.join(',')}\t${client.source}\t${client.name}\n`;
}

function details(client: Client): string {
  const lines: [string, string][] = [
    ['client_id', client.clientId],
    ['name', client.name],
    ['type', client.type],
    ['token_endpoint_auth_method', client.tokenEndpointAuthMethod],
    ['grant_types', client.grantTypes.join(' ')],
    ['redirect_uris', client.redirectUris.join(' ')],
    ['post_logout_redirect_uris', client.postLogoutRedirectUris.join(' ')],
    ['scopes', client.scopes.join(' ')],
    ['audiences', client.audiences.join(' ')],
    ['access_token_ttl_seconds', String(client.accessTokenTtlSeconds ?? 'default')],
    ['refresh_token_idle_ttl_seconds', String(client.refreshTokenIdleTtlSeconds ?? 'default')],
    ['refresh_token_absolute_ttl_seconds', String(client.refreshTokenAbsoluteTtlSeconds ?? 'default')],
    ['first_party', String(client.firstParty)],
    ['jwks', client.jwks === null ? '-' : `${client.jwks.keys.length} key(s)`],
    ['logo_uri', client.logoUri ?? '-'],
    ['client_uri', client.clientUri ?? '-'],
    ['policy_uri', client.policyUri ?? '-'],
    ['tos_uri', client.tosUri ?? '-'],
    ['contacts', client.contacts.join(' ') || '-'],
    ['source', client.source],
    ['created_at', new Date(client.createdAt).toISOString()],
    ['updated_at', new Date(client.updatedAt).toISOString()],
  ];
  return lines.map(([name, value]) => `${name}: ${value}\n`).join('');
}
