#!/usr/bin/env node
// The `gatehouse` command. Gatehouse runs its TypeScript sources directly (Node >= 24 strips
// types), so this launcher only loads the CLI entry.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`gatehouse: Node.js 24 or newer is required (this is ${process.version}); use \`npm run gatehouse --\` inside the project.\n`);
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== 'start') process.exitCode = code;
