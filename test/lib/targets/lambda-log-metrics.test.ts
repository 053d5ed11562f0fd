import { describe, expect, it } from 'vitest';

import { parseLambdaLogMetrics } from '../../../lib/targets/lambda-log-metrics';

// Log tails in the shape Lambda returns them with LogType: Tail (the last 4 KB of the log).
const TEXT_COLD = [
  'START RequestId: 8f5c0a2e-0d6a-4f8b-9a5e-2a2f0c5c1e7b Version: 7',
  '2026-11-22T10:00:00.123Z\t8f5c0a2e-0d6a-4f8b-9a5e-2a2f0c5c1e7b\tINFO\tloaded model in 180 ms',
  'END RequestId: 8f5c0a2e-0d6a-4f8b-9a5e-2a2f0c5c1e7b',
  'REPORT RequestId: 8f5c0a2e-0d6a-4f8b-9a5e-2a2f0c5c1e7b\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 1024 MB\tMax Memory Used: 87 MB\tInit Duration: 245.67 ms\t',
  '',
].join('\n');
const TEXT_WARM = [
  'START RequestId: 1d2e Version: 7',
  'END RequestId: 1d2e',
  'REPORT RequestId: 1d2e\tDuration: 3.41 ms\tBilled Duration: 4 ms\tMemory Size: 1024 MB\tMax Memory Used: 88 MB\t',
  '',
].join('\n');
const TEXT_SNAPSTART =
  'REPORT RequestId: 9a\tDuration: 20.00 ms\tBilled Duration: 151 ms\tMemory Size: 512 MB\tMax Memory Used: 120 MB\tRestore Duration: 130.52 ms\tBilled Restore Duration: 131 ms\t\n';
const JSON_COLD = [
  '{"time":"2026-11-22T10:00:00.000Z","type":"platform.start","record":{"requestId":"6f7f","version":"7"}}',
  '{"timestamp":"2026-11-22T10:00:00.050Z","level":"INFO","requestId":"6f7f","message":"loaded"}',
  '{"time":"2026-11-22T10:00:00.200Z","type":"platform.report","record":{"requestId":"6f7f","metrics":{"durationMs":102.25,"billedDurationMs":103,"memorySizeMB":1024,"maxMemoryUsedMB":87,"initDurationMs":245.67},"status":"success"}}',
  '',
].join('\n');
const JSON_WARM =
  '{"time":"2026-11-22T10:00:01.000Z","type":"platform.report","record":{"requestId":"7a","metrics":{"durationMs":3.41,"billedDurationMs":4,"memorySizeMB":1024,"maxMemoryUsedMB":88},"status":"success"}}\n';

describe('parseLambdaLogMetrics', () => {
  it('reads a cold text REPORT line, init duration included', () => {
    expect(parseLambdaLogMetrics(TEXT_COLD)).toEqual({
      durationMs: 102.25,
      billedDurationMs: 103,
      memorySizeMb: 1024,
      maxMemoryUsedMb: 87,
      initDurationMs: 245.67,
    });
  });

  it('reads a warm text REPORT line, which has no init duration', () => {
    expect(parseLambdaLogMetrics(TEXT_WARM)).toEqual({ durationMs: 3.41, billedDurationMs: 4, memorySizeMb: 1024, maxMemoryUsedMb: 88 });
  });

  it('does not take a restore duration (SnapStart) for the duration or the init duration', () => {
    expect(parseLambdaLogMetrics(TEXT_SNAPSTART)).toEqual({ durationMs: 20, billedDurationMs: 151, memorySizeMb: 512, maxMemoryUsedMb: 120 });
  });

  it('reads the platform.report record of JSON logs, cold and warm', () => {
    expect(parseLambdaLogMetrics(JSON_COLD)).toEqual({
      durationMs: 102.25,
      billedDurationMs: 103,
      memorySizeMb: 1024,
      maxMemoryUsedMb: 87,
      initDurationMs: 245.67,
    });
    expect(parseLambdaLogMetrics(JSON_WARM)).toEqual({ durationMs: 3.41, billedDurationMs: 4, memorySizeMb: 1024, maxMemoryUsedMb: 88 });
  });

  it('leaves out fields a report lacks, and finds nothing in a tail cut before the report', () => {
    expect(parseLambdaLogMetrics('REPORT RequestId: 1\tDuration: 5.00 ms\tBilled Duration: 5 ms\t')).toEqual({ durationMs: 5, billedDurationMs: 5 });
    expect(parseLambdaLogMetrics('{"type":"platform.report","record":{"metrics":{"billedDurationMs":9}}}')).toEqual({ billedDurationMs: 9 });
    expect(parseLambdaLogMetrics('START RequestId: 1 Version: $LATEST\nsome output\n')).toBeUndefined();
    expect(parseLambdaLogMetrics('{"type":"platform.report", broken')).toBeUndefined();
  });
});
