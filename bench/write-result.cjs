// One shape for every benchmark's results file, bench/results/<name>.json: what ran it (the npm
// command), when, on which machine and Node, then the benchmark's own results. The docs cite these
// files for every figure they show (test/bench-evidence.test.ts checks that each one is there).
const { mkdirSync, writeFileSync } = require('node:fs');
const { cpus, totalmem } = require('node:os');
const { join } = require('node:path');

const RESULTS_DIR = join(__dirname, 'results');

/** Writes bench/results/<name>.json and returns its path. */
function writeResult(name, args, results) {
  const cores = cpus();
  const file = join(RESULTS_DIR, `${name}.json`);
  const record = {
    command: `npm run bench:${name}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    date: new Date().toISOString(),
    machine: { cpu: cores[0] ? cores[0].model.trim() : 'unknown', cores: cores.length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    results,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

module.exports = { writeResult, RESULTS_DIR };
