import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Payload } from '../load/invoker';
import type { PhasePlan } from '../load/phase';
import type { SweepSpec } from '../spec/schema';

/** The spec's payloads as request bodies, files read from the spec's folder. */
export function payloadsOf(spec: SweepSpec, baseDir: string): Payload[] {
  return spec.payloads.map((p, i) => ({
    body: 'file' in p ? readFileSync(resolve(baseDir, p.file)) : p.body,
    contentType: p.contentType,
    weight: p.weight,
    name: p.name ?? ('file' in p ? p.file : `payloads[${i}]`),
  }));
}

/** The spec's phases as load-generator plans: stairs become one open phase per step. */
export function phasePlansOf(spec: SweepSpec): PhasePlan[] {
  return spec.load.phases.flatMap((phase, i): PhasePlan[] => {
    const name = phase.name ?? `phase${i + 1}`;
    if (phase.mode === 'open') return [{ name, mode: 'open', rate: phase.rate, arrivals: phase.arrivals, durationMs: phase.duration }];
    if (phase.mode === 'closed') return [{ name, mode: 'closed', concurrency: phase.concurrency, durationMs: phase.duration }];
    const steps: PhasePlan[] = [];
    for (let rate = phase.from; rate <= phase.to + 1e-9; rate += phase.step) {
      steps.push({ name: `${name}-${+rate.toFixed(3)}rps`, mode: 'open', rate, arrivals: phase.arrivals, durationMs: phase.stepDuration });
    }
    return steps;
  });
}

export function warmupOf(spec: SweepSpec): PhasePlan | undefined {
  const w = spec.load.warmup;
  if (!w) return undefined;
  return w.mode === 'open'
    ? { name: 'warmup', mode: 'open', rate: w.rate, arrivals: w.arrivals, durationMs: w.duration }
    : { name: 'warmup', mode: 'closed', concurrency: w.concurrency, durationMs: w.duration };
}
