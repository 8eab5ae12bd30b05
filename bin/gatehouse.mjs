#!/usr/bin/env node
// The `gatehouse` command. An installed package runs the JavaScript compiled at pack time
// (dist/, `npm run build`): Node.js does not strip types from files under node_modules. A source
// checkout (src/ present; the package ships none) runs the sources, as `npm start` does.
//
// Keep this file plain JavaScript that any Node.js parses, so an unsupported one gets the
// sentence below rather than a syntax error. The versions are package.json `engines`:
// node:sqlite unflagged with `StatementSync#columns()` (22.16 on the 22 line; 23 is end-of-life).
const [major, minor] = process.versions.node.split('.').map(Number);
if (!(major >= 24 || (major === 22 && minor >= 16))) {
  process.stderr.write(`gatehouse: Node.js 22.16 or later 22.x, or 24 or newer, is required (this is ${process.version}); install one (https://nodejs.org/en/download) and run the command again.\n`);
  process.exit(1);
}

// node:sqlite announces itself as experimental on every run; the repository's scripts pass
// --disable-warning=ExperimentalWarning, which a bin cannot. Every other warning still prints.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'ExperimentalWarning') process.stderr.write(`${warning.stack ?? String(warning)}\n`);
});

const { existsSync } = await import('node:fs');
const sources = new URL('../src/cli/main.ts', import.meta.url);
let entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(sources)) {
  if (!process.features.typescript) {
    process.stderr.write(`gatehouse: this is a source checkout, which needs a Node.js that strips types (this is ${process.version}); run \`npm run gatehouse -- …\`, which uses the pinned Node.js 24.\n`);
    process.exit(1);
  }
  entry = sources;
} else if (!existsSync(entry)) {
  process.stderr.write('gatehouse: the compiled server (dist/) is missing from this package; reinstall it.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// `start` keeps running until a signal; other commands end here.
if (code !== 0 || process.argv[2] !== 'start') process.exitCode = code;
