/**
 * `gatehouse login`-style sign-in for a command-line tool or a TV app: the device authorization
 * grant (RFC 8628) with openid-client 6. The tool shows a short code and an address; the user
 * opens the address on a phone or laptop, signs in and confirms; the tool's polling ends with
 * tokens. Register the client once:
 *
 *   gatehouse clients create --client-id my-cli --name "My CLI" --type public --auth-method none \
 *     --grant urn:ietf:params:oauth:grant-type:device_code --grant refresh_token \
 *     --scope openid --scope profile --scope offline_access
 *
 * Run: `node examples/device-login/login.ts http://localhost:3000 my-cli`
 */
import * as client from 'openid-client';

export interface DeviceLoginOptions {
  issuer: string;
  clientId: string;
  scope?: string;
  /** Shows the user where to go and which code to enter (default: prints it). */
  prompt?: (instructions: { verificationUri: string; verificationUriComplete: string | undefined; userCode: string; expiresIn: number }) => void | Promise<void>;
  /** Only for http:// issuers on loopback (development). */
  allowInsecure?: boolean;
  signal?: AbortSignal;
}

/** Runs the device flow to the end; resolves with the token response (ID token validated). */
export async function deviceLogin(options: DeviceLoginOptions): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const config = await client.discovery(new URL(options.issuer), options.clientId, undefined, client.None(), options.allowInsecure ? { execute: [client.allowInsecureRequests] } : undefined);
  const response = await client.initiateDeviceAuthorization(config, { scope: options.scope ?? 'openid profile offline_access' });
  const show = options.prompt ?? ((instructions) => {
    process.stdout.write(`To sign in, open ${instructions.verificationUri} and enter the code ${instructions.userCode}\n`);
    if (instructions.verificationUriComplete) process.stdout.write(`(or open ${instructions.verificationUriComplete})\n`);
  });
  await show({ verificationUri: response.verification_uri, verificationUriComplete: response.verification_uri_complete, userCode: response.user_code, expiresIn: response.expires_in });
  // Waits `interval` between polls, honours slow_down, ends on tokens, access_denied or expired_token.
  return client.pollDeviceAuthorizationGrant(config, response, undefined, options.signal ? { signal: options.signal } : undefined);
}

if (import.meta.main) {
  const [issuer = 'http://localhost:3000', clientId = 'my-cli'] = process.argv.slice(2);
  const tokens = await deviceLogin({ issuer, clientId, allowInsecure: new URL(issuer).protocol === 'http:' });
  process.stdout.write(`Signed in as ${String(tokens.claims()?.sub)}; access token expires in ${tokens.expires_in ?? '?'} s\n`);
}
