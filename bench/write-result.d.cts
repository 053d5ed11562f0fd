/** Writes bench/results/<name>.json (the command, date, machine, Node version and `results`) and returns its path. */
export function writeResult(name: string, args: readonly string[], results: unknown): string;
export const RESULTS_DIR: string;
