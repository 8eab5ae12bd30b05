import { ApiError } from '../../errors/catalog.ts';
import { ConfigError } from '../../config/types.ts';
import type { ClientMetadata } from './model.ts';
import type { ClientRegistry, DeclaredClient } from './registry.ts';
import { checkDeclaredSecretHash, ClientMetadataError } from './validation.ts';

/** How an operator turns a secret into `client_secret_hash` (equals `hashSecret`: SHA-256, base64url, no padding). */
export const HASH_COMMAND = 'printf %s "$SECRET" | openssl dgst -sha256 -binary | basenc --base64url | tr -d =';

/**
 * Applies the clients declared in the config file (`clients`, `GATEHOUSE_CLIENTS`): creates the
 * missing ones and brings changed ones up to date; unchanged ones are left alone (no write, no
 * audit event), so applying the same list at every start changes nothing. Every entry is checked
 * before any is applied; a bad one stops start-up with a `ConfigError` naming `clients[i].field`.
 * Clients removed from the list are not deleted (use the admin API or the CLI).
 */
export async function applyConfiguredClients(registry: ClientRegistry, entries: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
  const declared = entries.map((entry, index) => checkEntry(registry, entry, index));
  const seen = new Map<string, number>();
  declared.forEach((entry, index) => {
    const clientId = entry.client_id as string;
    const first = seen.get(clientId);
    if (first !== undefined) throw new ConfigError(`clients[${index}].client_id`, `"${clientId}" is also declared by clients[${first}]`);
    seen.set(clientId, index);
  });
  for (const [index, entry] of declared.entries()) {
    try {
      await registry.upsertDeclared(entry);
    } catch (error) {
      if (error instanceof ClientMetadataError) throw new ConfigError(`clients[${index}].${error.field}`, error.reason);
      if (error instanceof ApiError) throw new ConfigError(`clients[${index}].client_id`, error.description);
      throw error;
    }
  }
}

function checkEntry(registry: ClientRegistry, entry: Readonly<Record<string, unknown>>, index: number): DeclaredClient {
  if (Object.hasOwn(entry, 'client_secret')) {
    throw new ConfigError(`clients[${index}].client_secret`, `a secret is never stored in the config file; put its SHA-256 in client_secret_hash instead: ${HASH_COMMAND}`);
  }
  const { client_secret_hash: secretHash, ...metadata } = entry;
  try {
    const settings = registry.check(metadata);
    if (settings.clientId === undefined) throw new ClientMetadataError('invalid_client_metadata', 'client_id', 'is required for a client declared in the config file');
    checkDeclaredSecretHash(settings, secretHash);
  } catch (error) {
    if (error instanceof ClientMetadataError) throw new ConfigError(`clients[${index}].${error.field}`, error.reason);
    throw error;
  }
  // Checked above: the entry has exactly the metadata fields, with valid values and types.
  return { ...(metadata as ClientMetadata), ...(secretHash === undefined ? {} : { client_secret_hash: secretHash as string }) };
}
