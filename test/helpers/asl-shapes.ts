/**
 * Follows a state machine definition with the *shapes* of its data instead of values: each Task's
 * result is its step's output schema (as JSON Schema), placed where its ResultPath says; Map items
 * are their array's item schema. Every JSONPath the definition reads (Choice variables, Wait and
 * Fail paths, ItemsPath, Parameters, ItemSelector, OutputPath) must resolve in the shape it meets,
 * and every Task must be given the fields its step requires.
 */
import { z } from 'zod';

type Schema = Record<string, any>;
type StateDef = Record<string, any>;

export interface StepShapes {
  /** The step a Task state runs, by state name (undefined: not a step). */
  readonly stepOf: (stateName: string) => { readonly input: z.ZodType; readonly output: z.ZodType } | undefined;
}

const ANY: Schema = {};

export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Schema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;
  return inline(json, json);
}

/** Replaces local `$ref`s with what they point to (zod emits them for reused schemas). */
function inline(node: any, root: Schema): any {
  if (Array.isArray(node)) return node.map((n) => inline(n, root));
  if (!node || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
    const target = node.$ref
      .slice(2)
      .split('/')
      .reduce((o: any, k: string) => o?.[k], root);
    return inline(target, root);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v, root)]));
}

const object = (properties: Record<string, Schema>): Schema => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

/** The schema at `path` ("$.a.b") in `shape`, or an error saying where it stops. */
export function resolvePath(shape: Schema, path: string): { schema: Schema } | { error: string } {
  if (path === '$') return { schema: shape };
  if (!path.startsWith('$.')) return { error: `${path} is not a simple JSONPath` };
  let node = shape;
  const walked = ['$'];
  for (const segment of path.slice(2).split('.')) {
    const next = child(node, segment);
    if (!next) return { error: `${path}: ${walked.join('.')} has no field "${segment}"${fieldsOf(node)}` };
    node = next;
    walked.push(segment);
  }
  return { schema: node };
}

function child(node: Schema, key: string): Schema | undefined {
  const options = node.anyOf ?? node.oneOf;
  if (options) {
    const found = (options as Schema[]).map((o) => child(o, key)).filter((c): c is Schema => c !== undefined);
    return found.length > 0 ? { anyOf: found } : undefined;
  }
  if (!node.type && !node.properties) return ANY;
  if (node.properties && key in node.properties) return node.properties[key];
  if (node.additionalProperties && typeof node.additionalProperties === 'object') return node.additionalProperties;
  if (node.additionalProperties === true) return ANY;
  return undefined;
}

const fieldsOf = (node: Schema) => (node.properties ? ` (it has ${Object.keys(node.properties).join(', ') || 'none'})` : '');

function itemsOf(node: Schema): Schema | undefined {
  if (!node.type && !node.items) return ANY;
  if (node.type === 'array') return node.items ?? ANY;
  return undefined;
}

/** Sets `value` at `path` in `shape` (a ResultPath), creating objects on the way. */
function place(shape: Schema, path: string | null | undefined, value: Schema): Schema {
  if (path === null) return shape;
  if (path === undefined || path === '$') return value;
  const [head, ...rest] = path.slice(2).split('.');
  const base = shape.properties ? shape : object({});
  const inner = rest.length > 0 ? place(base.properties[head!] ?? object({}), `$.${rest.join('.')}`, value) : value;
  return { ...base, properties: { ...base.properties, [head!]: inner }, required: [...new Set([...(base.required ?? []), head!])] };
}

/** Follows every path of a definition with shapes; returns each problem found (none when all resolve). */
export function checkDefinitionPaths(definition: { StartAt: string; States: Record<string, StateDef> }, start: Schema, steps: StepShapes): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();

  const read = (where: string, shape: Schema, path: string, context: Schema | undefined): Schema => {
    if (path.startsWith('$$.')) {
      if (path.startsWith('$$.Map.Item.Value') && context) {
        const rest = path.slice('$$.Map.Item.Value'.length);
        const resolved = resolvePath(context, `$${rest}`);
        if ('error' in resolved) problems.push(`${where}: ${path}: ${resolved.error}`);
        return 'schema' in resolved ? resolved.schema : ANY;
      }
      return ANY;
    }
    const resolved = resolvePath(shape, path);
    if ('error' in resolved) {
      problems.push(`${where}: ${resolved.error}`);
      return ANY;
    }
    return resolved.schema;
  };

  const template = (where: string, shape: Schema, params: Record<string, unknown>, item: Schema | undefined): Schema => {
    const properties: Record<string, Schema> = {};
    for (const [key, value] of Object.entries(params)) {
      if (key.endsWith('.$')) properties[key.slice(0, -2)] = read(where, shape, String(value), item);
      else if (value && typeof value === 'object' && !Array.isArray(value))
        properties[key] = template(where, shape, value as Record<string, unknown>, item);
      else properties[key] = { type: typeof value === 'number' ? 'number' : typeof value };
    }
    return object(properties);
  };

  const requireFields = (where: string, input: Schema, expected: Schema) => {
    if (!input.properties) return;
    for (const field of expected.required ?? []) {
      if (!(field in input.properties))
        problems.push(`${where}: its step requires "${field}", which its input does not have (it has ${Object.keys(input.properties).join(', ')})`);
    }
  };

  const visit = (states: Record<string, StateDef>, name: string, shape: Schema, item: Schema | undefined, ends: Schema[]): void => {
    const key = `${name}\u0000${JSON.stringify(shape)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const state = states[name];
    if (!state) {
      problems.push(`a transition goes to "${name}", which is not a state`);
      return;
    }
    const where = `state "${name}"`;
    const next = (target: string | undefined, s: Schema) => (target ? visit(states, target, s, item, ends) : state.End && ends.push(s));
    const catches = (s: Schema) => {
      for (const c of state.Catch ?? []) next(c.Next, place(s, c.ResultPath, object({ Error: { type: 'string' }, Cause: { type: 'string' } })));
    };
    switch (state.Type) {
      case 'Task': {
        const step = steps.stepOf(name);
        const input = state.Parameters ? template(where, shape, state.Parameters.Payload ?? state.Parameters, undefined) : shape;
        if (!step) {
          problems.push(`${where} is a Task that runs no known step`);
          return;
        }
        requireFields(where, input, jsonSchemaOf(step.input, 'input'));
        const result = place(shape, state.ResultPath, jsonSchemaOf(step.output, 'output'));
        catches(shape);
        next(state.Next, result);
        return;
      }
      case 'Choice':
        for (const choice of state.Choices ?? []) {
          read(where, shape, choice.Variable, item);
          next(choice.Next, shape);
        }
        next(state.Default, shape);
        return;
      case 'Wait':
        if (state.SecondsPath) read(where, shape, state.SecondsPath, item);
        next(state.Next, shape);
        return;
      case 'Map': {
        const items = itemsOf(read(where, shape, state.ItemsPath ?? '$', item));
        if (!items) {
          problems.push(`${where}: ${state.ItemsPath} is not an array`);
          return;
        }
        const processor = state.ItemProcessor ?? state.Iterator;
        const selector = state.ItemSelector ?? state.Parameters;
        const start = selector ? template(where, shape, selector, items) : items;
        const results = runBranch(processor, start);
        const result = place(shape, state.ResultPath, { type: 'array', items: results });
        catches(shape);
        next(state.Next, result);
        return;
      }
      case 'Pass':
        next(state.Next, shape);
        return;
      case 'Succeed':
        ends.push(state.OutputPath ? read(where, shape, state.OutputPath, item) : shape);
        return;
      case 'Fail':
        if (state.CausePath) read(where, shape, state.CausePath, item);
        if (state.ErrorPath) read(where, shape, state.ErrorPath, item);
        return;
      default:
        problems.push(`${where} has a type this check does not follow: ${state.Type}`);
    }
  };

  /** A Map's processor, followed from its start: what each item produces, any of the shapes its ends leave. */
  const runBranch = (processor: { StartAt: string; States: Record<string, StateDef> }, start: Schema): Schema => {
    const ends: Schema[] = [];
    visit(processor.States, processor.StartAt, start, start, ends);
    return ends.length === 1 ? ends[0]! : ends.length > 1 ? { anyOf: ends } : ANY;
  };

  visit(definition.States, definition.StartAt, start, undefined, []);
  return problems;
}
