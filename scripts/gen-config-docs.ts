/**
 * Generates docs/configuration.md from the one configuration schema (src/config/schema.ts),
 * so the documentation cannot drift from the code (style rule 9).
 *
 *   npm run docs:config              rewrite docs/configuration.md
 *   npm run docs:config -- --check   exit 1 when the file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIG_FILE_ENV, configSchema } from '../src/config/schema.ts';
import type { KeySpec } from '../src/config/types.ts';

/** Where the generated page lives. */
export const CONFIGURATION_DOC_PATH: string = join(import.meta.dirname, '..', 'docs', 'configuration.md');

const INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by scripts/gen-config-docs.ts. Do not edit by hand:
     change the schema, then run \`npm run docs:config\`. -->

Gatehouse needs no configuration to try it out: \`gatehouse start\` listens on
http://localhost:3000, keeps its data in an embedded SQLite database under \`./data\` and
generates a development master key there (\`./data/master.key\`, mode 0600).

Every setting comes from two places:

- **A JSON config file** (optional), named by \`--config FILE\` or the \`${CONFIG_FILE_ENV}\`
  environment variable (\`--config\` wins). It holds one object whose keys are the camelCase
  names in the first column, e.g. \`{ "port": 8080, "trustedProxies": ["10.0.0.0/8"] }\`.
- **Environment variables** (\`GATEHOUSE_*\`, second column). They win over the file. Lists are
  comma-separated; booleans accept true/false, 1/0, yes/no, on/off.

The configuration is checked before anything starts, and every problem stops the start-up with
one line naming the key and the fix (exit code 2):

- An **unknown key** is refused, whether it is a \`GATEHOUSE_*\` environment variable or a key in
  the config file, so a typo never silently falls back to a default.
- An **invalid value** (a port out of range, a malformed URL, an entry of \`trustedProxies\` that is
  not an IP address or CIDR block, a boolean that is not true/false) is refused.
- In **production** (\`GATEHOUSE_ENV=production\`):
  - \`GATEHOUSE_MASTER_KEY\` is required and must decode (base64, base64url or hex) to at least
    32 bytes; generate one with \`openssl rand -base64 32\`. No key is ever generated in
    production.
  - \`GATEHOUSE_SMTP_URL\` is required: verification and password-reset mails need a real mail
    server (development uses the dev outbox instead).
  - \`GATEHOUSE_PUBLIC_URL\` must be \`https://\`; plain \`http://\` is allowed only for localhost
    (\`localhost\`, \`*.localhost\`, \`127.0.0.1\`, \`[::1]\`).

Settings marked *secret* are redacted by \`gatehouse doctor\`, which prints the effective
configuration and checks the database, Redis, the master key and the public URL.
`;

/** Renders the whole page; deterministic, so the test can compare it with the file. */
export function renderConfigurationDoc(): string {
  const rows = (Object.entries(configSchema) as [string, KeySpec<unknown>][]).map(([name, spec]) =>
    row([
      code(name),
      code(spec.env),
      spec.defaultText === undefined ? '—' : code(spec.defaultText),
      spec.secret ? `${prose(spec.doc)} *Secret.*` : prose(spec.doc),
    ]),
  );
  rows.push(
    row([
      '—',
      code(CONFIG_FILE_ENV),
      '—',
      'Path of the JSON config file (`--config FILE` wins); not a key inside the file.',
    ]),
  );
  const table = [
    row(['File key', 'Environment variable', 'Default', 'Description']),
    row(['---', '---', '---', '---']),
    ...rows,
  ].join('\n');
  return `${INTRO}\n## Settings\n\n${table}\n`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

/** A `|` inside a cell would end it; a newline would end the row. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/**
 * Schema docs are plain text: outside code spans, `<dataDir>` would be read as an HTML tag and
 * vanish, and `__Host-` or `*` could start emphasis, so those characters are escaped.
 */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([_*])/g, '\\$1')))
    .join('');
}

function code(text: string): string {
  return `\`${text}\``;
}

/** Writes the page, or with `--check` reports whether it is up to date. Returns the exit code. */
export function main(argv: readonly string[]): number {
  const expected = renderConfigurationDoc();
  const shown = relative(process.cwd(), CONFIGURATION_DOC_PATH) || CONFIGURATION_DOC_PATH;
  if (argv.includes('--check')) {
    let actual: string | undefined;
    try {
      actual = readFileSync(CONFIGURATION_DOC_PATH, 'utf8');
    } catch {
      actual = undefined;
    }
    if (actual === expected) return 0;
    process.stderr.write(`${shown} is out of date with src/config/schema.ts — run: npm run docs:config\n`);
    return 1;
  }
  writeFileSync(CONFIGURATION_DOC_PATH, expected);
  process.stdout.write(`wrote ${shown}\n`);
  return 0;
}

if (import.meta.main) {
  process.exitCode = main(process.argv.slice(2));
}
