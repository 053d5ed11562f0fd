#!/usr/bin/env node
// Launcher for the modelsweep CLI: runs the TypeScript entry point through tsx.
require('tsx/cjs');
const { main } = require('./modelsweep.ts');
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
