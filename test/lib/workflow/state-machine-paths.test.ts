import { describe, expect, it } from 'vitest';

import { renderSweepDefinition } from '../../../constructs/sweep/sweep-definition';
import { executionInput } from '../../../lib/workflow/events';
import { STEPS } from '../../../lib/workflow/steps';
import { SWEEP_TASKS, type SweepTask } from '../../../lib/workflow/task-names';
import { checkDefinitionPaths, jsonSchemaOf, resolvePath } from '../../helpers/asl-shapes';

type Definition = { StartAt: string; States: Record<string, any> };

const taskOfState = new Map<string, SweepTask>(Object.entries(SWEEP_TASKS).map(([task, state]) => [state, task as SweepTask] as const));
const steps = { stepOf: (state: string) => (taskOfState.has(state) ? STEPS[taskOfState.get(state)!] : undefined) };
const start = jsonSchemaOf(executionInput, 'input');
const definition = () => renderSweepDefinition() as unknown as Definition;

/** The definition with one string replaced everywhere: a renamed field, as an edit would leave it. */
const edited = (from: string, to: string): Definition =>
  JSON.parse(JSON.stringify(definition()).split(JSON.stringify(from)).join(JSON.stringify(to)));

describe('the state machine reads only what the steps return', () => {
  it('every JSONPath of the BenchmarkSweep definition resolves in the step outputs, and every step gets the fields it requires', () => {
    expect(checkDefinitionPaths(definition(), start, steps)).toEqual([]);
  });

  it('the paths the workflow decides on are among those checked', () => {
    const text = JSON.stringify(definition());
    for (const path of [
      '$.budget.approved',
      '$.ready.ready',
      '$.ready.waitSeconds',
      '$.warm.phases',
      '$.warm.search',
      '$.warm.search.done',
      '$.deployment',
      '$.status',
      '$.reason',
      '$.wave.lanes',
      '$.wave.done',
      '$.maxConcurrency',
      '$.sweepId',
      '$.result',
    ]) {
      expect(text, path).toContain(JSON.stringify(path));
    }
  });

  it.each([
    ['$.budget.approved', '$.budget.approve', 'state "Within budget?": $.budget.approve: $.budget has no field "approve"'],
    ['$.warm.phases', '$.warm.phase', 'state "Run phases": $.warm.phase: $.warm has no field "phase"'],
    ['$.ready.waitSeconds', '$.ready.wait', 'state "Wait until ready": $.ready.wait: $.ready has no field "wait"'],
    ['$.reason', '$.why', 'state "Sweep failed": $.why: $ has no field "why"'],
    ['$.wave.lanes', '$.wave.lane', 'state "Measure lanes": $.wave.lane: $.wave has no field "lane"'],
    ['$.wave.done', '$.wave.finished', 'state "More to measure?": $.wave.finished: $.wave has no field "finished"'],
  ])('a path renamed in the definition (%s → %s) is caught, naming the state and the field', (from, to, problem) => {
    const problems = checkDefinitionPaths(edited(from, to), start, steps);
    expect(problems.join('\n')).toContain(problem);
  });

  it('an output field renamed in a step is caught where the definition reads it', () => {
    const renamed = {
      ...steps,
      stepOf: (state: string) => (state === SWEEP_TASKS.checkReady ? { ...STEPS.checkReady, output: STEPS.warmup.output } : steps.stepOf(state)),
    };
    expect(checkDefinitionPaths(definition(), start, renamed).join('\n')).toContain('$.ready.ready: $.ready has no field "ready"');
  });

  it('a field a step requires but is not given is caught', () => {
    const problems = checkDefinitionPaths(edited('candidate.$', 'candidates.$'), start, steps);
    expect(problems.join('\n')).toMatch(/state "Check budget": its step requires "candidate"/);
  });

  it('resolves through optional and loose fields but not past closed objects', () => {
    const shape = jsonSchemaOf(STEPS.budget.output, 'output');
    expect(resolvePath(shape, '$.estimateUsd')).toHaveProperty('schema');
    expect(resolvePath(shape, '$.approved.x')).toHaveProperty('error');
  });
});
