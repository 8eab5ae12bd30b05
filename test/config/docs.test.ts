/**
 * docs/configuration.md is generated from the config schema (style rule 9: the schema doubles
 * as the documentation); this fails as soon as the two drift apart.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIGURATION_DOC_PATH, renderConfigurationDoc } from '../../scripts/gen-config-docs.ts';
import { CONFIG_FILE_ENV, configSchema } from '../../src/config/schema.ts';

/** Every variable the product specification promises to operators. */
const REQUIRED_ENV_NAMES = [
  'GATEHOUSE_PORT',
  'GATEHOUSE_HOST',
  'GATEHOUSE_PUBLIC_URL',
  'GATEHOUSE_DATA_DIR',
  'GATEHOUSE_DATABASE_URL',
  'GATEHOUSE_REDIS_URL',
  'GATEHOUSE_MASTER_KEY',
  'GATEHOUSE_ENV',
  'GATEHOUSE_CONFIG',
];

function readDoc(): string {
  try {
    return readFileSync(CONFIGURATION_DOC_PATH, 'utf8');
  } catch {
    assert.fail('docs/configuration.md is missing — run: npm run docs:config');
  }
}

/** The `| … | \`GATEHOUSE_X\` | … |` table rows, by environment variable. */
function tableRows(doc: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    if (!line.startsWith('| ')) continue;
    const cells = line.slice(2, -2).split(' | ');
    const env = /^`(GATEHOUSE_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (env !== undefined) rows.set(env, cells);
  }
  return rows;
}

describe('docs/configuration.md', () => {
  it('is up to date with src/config/schema.ts', () => {
    assert.ok(
      readDoc() === renderConfigurationDoc(),
      'docs/configuration.md differs from the config schema — run: npm run docs:config (and commit the result)',
    );
  });

  it('documents every variable the specification requires', () => {
    const rows = tableRows(readDoc());
    const missing = REQUIRED_ENV_NAMES.filter((name) => !rows.has(name));
    assert.deepEqual(missing, [], `not documented in the settings table: ${missing.join(', ')}`);
  });

  it('has one row per schema key, with its file key, default and description', () => {
    const rows = tableRows(renderConfigurationDoc());
    for (const [name, spec] of Object.entries(configSchema)) {
      const cells = rows.get(spec.env);
      assert.ok(cells, `no row for ${spec.env}`);
      assert.equal(cells[0], `\`${name}\``);
      assert.equal(cells[2], spec.defaultText === undefined ? '—' : `\`${spec.defaultText}\``);
      assert.ok((cells[3] ?? '').length > 0, `${spec.env} has no description`);
    }
    assert.ok(rows.has(CONFIG_FILE_ENV));
    assert.equal(rows.size, Object.keys(configSchema).length + 1);
  });

  it('states the rules an operator trips over', () => {
    const doc = renderConfigurationDoc();
    assert.match(doc, /--config/);
    assert.match(doc, /camelCase/);
    assert.match(doc, /win over the file/);
    assert.match(doc, /unknown key/i);
    assert.match(doc, /at least\s+32 bytes/);
    assert.match(doc, /https:\/\//);
  });
});
