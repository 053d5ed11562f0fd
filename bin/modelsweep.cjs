#!/usr/bin/env node
// Launcher for the modelsweep CLI: runs the TypeScript entry point through tsx.
// The AWS SDK warns on every start that it will want Node 22 in 2027; that is not the user's concern here.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
};
require('tsx/cjs');
const { runCli } = require('./modelsweep.ts');
void runCli(process.argv.slice(2));
