/** What Lambda reports about one invocation (the REPORT line, or `platform.report` in JSON logs). */
export interface LambdaLogMetrics {
  readonly durationMs?: number;
  readonly billedDurationMs?: number;
  readonly memorySizeMb?: number;
  readonly maxMemoryUsedMb?: number;
  /** Only on a cold start: the time to initialize the execution environment. */
  readonly initDurationMs?: number;
}

const TEXT_FIELDS: ReadonlyArray<readonly [RegExp, keyof LambdaLogMetrics]> = [
  [/(?:^|\s)Duration:\s*([\d.]+)\s*ms/, 'durationMs'],
  [/Billed Duration:\s*([\d.]+)\s*ms/, 'billedDurationMs'],
  [/Memory Size:\s*([\d.]+)\s*MB/, 'memorySizeMb'],
  [/Max Memory Used:\s*([\d.]+)\s*MB/, 'maxMemoryUsedMb'],
  [/Init Duration:\s*([\d.]+)\s*ms/, 'initDurationMs'],
];

const JSON_FIELDS: ReadonlyArray<readonly [string, keyof LambdaLogMetrics]> = [
  ['durationMs', 'durationMs'],
  ['billedDurationMs', 'billedDurationMs'],
  ['memorySizeMB', 'memorySizeMb'],
  ['maxMemoryUsedMB', 'maxMemoryUsedMb'],
  ['initDurationMs', 'initDurationMs'],
];

/**
 * Finds the invocation report in the tail of a function's log (what `LogType: Tail` returns,
 * decoded): the text REPORT line, or the JSON `platform.report` record when the function logs in
 * JSON. Missing fields are left out rather than guessed; no report gives undefined.
 */
export function parseLambdaLogMetrics(log: string): LambdaLogMetrics | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (line.startsWith('REPORT ')) return fromText(line);
    if (line.startsWith('{') && line.includes('platform.report')) {
      const report = fromJson(line);
      if (report) return report;
    }
  }
  return undefined;
}

/** What a successful invocation's log tail (`LogResult`, base64) says the platform billed, and whether it was a cold start, as outcome fields. */
export function platformFieldsOfLogTail(logResult: string | undefined): { billedMs?: number; initMs?: number } {
  const report = logResult ? parseLambdaLogMetrics(Buffer.from(logResult, 'base64').toString('utf8')) : undefined;
  return {
    ...(report?.billedDurationMs !== undefined ? { billedMs: report.billedDurationMs } : {}),
    ...(report?.initDurationMs !== undefined ? { initMs: report.initDurationMs } : {}),
  };
}

function fromText(line: string): LambdaLogMetrics {
  const report: Record<string, number> = {};
  // "Billed Duration" also matches a bare "Duration:" pattern, so that one is anchored to a word start.
  for (const [pattern, field] of TEXT_FIELDS) {
    const match = pattern.exec(
      field === 'durationMs' ? line.replace(/Billed Duration|Init Duration|Restore Duration|Billed Restore Duration/g, '') : line,
    );
    if (match) report[field] = Number(match[1]);
  }
  return report;
}

function fromJson(line: string): LambdaLogMetrics | undefined {
  let event: { type?: string; record?: { metrics?: Record<string, unknown> } };
  try {
    event = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (event.type !== 'platform.report') return undefined;
  const metrics = event.record?.metrics ?? {};
  const report: Record<string, number> = {};
  for (const [key, field] of JSON_FIELDS) if (typeof metrics[key] === 'number') report[field] = metrics[key] as number;
  return report;
}
