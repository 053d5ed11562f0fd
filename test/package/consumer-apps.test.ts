/**
 * The construct library as CDK users install it: packed, installed with a plain `npm install`
 * (from the npm registry, nothing else) into four fresh apps, and synthesized with each app's own
 * `npx cdk synth`. Slow (a few minutes, most of it npm), so everything is made once, in beforeAll.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type AppKind, type ConsumerApp, installedCopies, makeConsumerApp, run, synth } from '../helpers/consumer-apps';

const ROOT = join(__dirname, '..', '..');
const KINDS: AppKind[] = ['cdk-init-typescript', 'classic-ts-node', 'cdk-init-javascript', 'oldest-aws-cdk-lib'];
const INSTALL_GOAL_BYTES = 200e6;

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

const resourcesOf = (template: string, type: string) => Object.values((JSON.parse(template) as Template).Resources).filter((r) => r.Type === type);

interface Packed {
  filename: string;
  files: { path: string }[];
}

/** `npm pack` of a workspace into `destination`. */
async function pack(workspace: string, destination: string): Promise<Packed> {
  const args = ['pack', '--json', '--workspace', workspace, '--pack-destination', destination];
  return (JSON.parse(await run('npm', args, ROOT)) as Packed[])[0]!;
}

describe('the construct library, packed and installed into fresh CDK apps', () => {
  let work: string;
  const apps = new Map<AppKind, ConsumerApp>();
  const templates = new Map<AppKind, Record<string, string>>();
  let oldest: { awsCdkLib: string; constructs: string };
  let constructsPack: Packed;
  let movedApp: string;
  let movedTemplates: Record<string, string>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'consumer-apps-'));
    movedApp = join(work, 'elsewhere', 'at', 'another', 'depth');
    await run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/build-constructs-package.ts'], ROOT);
    constructsPack = await pack('modelsweep-constructs', work);
    const tarball = join(work, constructsPack.filename);

    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', 'constructs', 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
    };
    const awsCdkLib = manifest.peerDependencies['aws-cdk-lib']!.replace(/^\^/, '');
    const itsConstructs = JSON.parse(await run('npm', ['view', `aws-cdk-lib@${awsCdkLib}`, 'peerDependencies.constructs', '--json'], work)) as string;
    oldest = { awsCdkLib, constructs: itsConstructs.replace(/^\^/, '') };

    for (const app of await Promise.all(KINDS.map((kind) => makeConsumerApp(kind, join(work, kind), tarball, oldest)))) apps.set(app.kind, app);

    // One app deploys what `modelsweep apply` recorded; the others have no recommendation yet.
    writeFileSync(
      join(apps.get('classic-ts-node')!.dir, 'cdk.context.json'),
      JSON.stringify({
        'modelsweep:recommendation:resnet': {
          model: 'resnet',
          sweepId: 'resnet-weekly-1',
          candidate: 'lambda-3008mb-x86_64',
          kind: 'lambda',
          configuration: { memorySizeMb: 3008, architecture: 'x86_64' },
          appliedAt: '2026-12-01T00:00:00.000Z',
        },
      }),
    );
    // Two lines of synths, as a synth mostly keeps one core busy. The first app is synthesized
    // again after a move to another folder, to compare the templates.
    await Promise.all([
      (async () => {
        templates.set('cdk-init-typescript', await synth(apps.get('cdk-init-typescript')!.dir));
        mkdirSync(join(movedApp, '..'), { recursive: true });
        renameSync(apps.get('cdk-init-typescript')!.dir, movedApp);
        apps.set('cdk-init-typescript', { ...apps.get('cdk-init-typescript')!, dir: movedApp });
        movedTemplates = await synth(movedApp);
      })(),
      (async () => {
        for (const kind of KINDS.slice(1)) templates.set(kind, await synth(apps.get(kind)!.dir));
      })(),
    ]);
  }, 15 * 60_000);

  // Here rather than in the suite's teardown: four apps' node_modules are over a gigabyte.
  afterAll(() => rmSync(work, { recursive: true, force: true }), 60_000);

  it('installs one copy of aws-cdk-lib and of constructs in every app, the app’s own: the newest release or the floor', async () => {
    for (const kind of KINDS) {
      const { dir } = apps.get(kind)!;
      const [cdkLib, constructs] = await Promise.all([installedCopies(dir, 'aws-cdk-lib'), installedCopies(dir, 'constructs')]);
      expect({ kind, cdkLib, constructs }).toMatchObject({
        cdkLib: [expect.stringMatching(/^node_modules\/aws-cdk-lib@/)],
        constructs: [expect.stringMatching(/^node_modules\/constructs@/)],
      });
    }
    expect(await installedCopies(apps.get('oldest-aws-cdk-lib')!.dir, 'aws-cdk-lib')).toEqual([`node_modules/aws-cdk-lib@${oldest.awsCdkLib}`]);
    // A new app takes the registry's newest aws-cdk-lib, as `cdk init` does.
    const newest = JSON.parse(await run('npm', ['view', 'aws-cdk-lib', 'version', '--json'], work)) as string;
    expect(await installedCopies(apps.get('cdk-init-typescript')!.dir, 'aws-cdk-lib')).toEqual([`node_modules/aws-cdk-lib@${newest}`]);
    expect(await installedCopies(apps.get('oldest-aws-cdk-lib')!.dir, 'constructs')).toEqual([`node_modules/constructs@${oldest.constructs}`]);
  });

  it('synthesizes the README example in every app: three endpoint kinds, the sweep and the recommended model', () => {
    for (const kind of KINDS) {
      const t = templates.get(kind)!;
      expect(Object.keys(t).sort(), kind).toEqual(['MyModels', 'MyRecommendedModel', 'MySweep']);
      expect(resourcesOf(t.MyModels!, 'AWS::SageMaker::Endpoint'), kind).toHaveLength(2);
      expect(resourcesOf(t.MyModels!, 'AWS::Lambda::Url'), kind).toHaveLength(1);
      expect(resourcesOf(t.MyModels!, 'AWS::CloudWatch::Alarm'), kind).toHaveLength(3);
      expect(resourcesOf(t.MySweep!, 'AWS::StepFunctions::StateMachine'), kind).toHaveLength(1);
      expect(resourcesOf(t.MySweep!, 'AWS::Scheduler::Schedule')[0]?.Properties, kind).toMatchObject({ ScheduleExpression: 'rate(7 days)' });
      const [model] = resourcesOf(t.MyRecommendedModel!, 'AWS::Lambda::Function');
      // The classic app has a recommendation in its cdk.context.json; the others get the defaults.
      expect(model?.Properties, kind).toMatchObject(
        kind === 'classic-ts-node' ? { MemorySize: 3008, Architectures: ['x86_64'] } : { MemorySize: 2048, Architectures: ['arm64'] },
      );
    }
  });

  it(`adds at most ${INSTALL_GOAL_BYTES / 1e6} MB to a fresh app's node_modules`, () => {
    const { before, after } = apps.get('cdk-init-typescript')!.nodeModulesBytes!;
    // The README's install sizes come from this line of a CI run.
    console.info(
      `modelsweep-constructs added ${((after - before) / 1e6).toFixed(1)} MB to a fresh cdk init app's node_modules (${(before / 1e6).toFixed(1)} MB before)`,
    );
    expect(after - before).toBeGreaterThan(0);
    expect(after - before).toBeLessThanOrEqual(INSTALL_GOAL_BYTES);
  });

  it('synthesizes byte-identical templates from the same app in another folder', () => {
    expect(Object.keys(movedTemplates)).toHaveLength(3);
    expect(movedTemplates).toEqual(templates.get('cdk-init-typescript'));
  });

  it('packs no demo build output, scripts, tests or TypeScript sources', () => {
    const constructs = constructsPack.files.map((f) => f.path);
    expect(constructs.filter((f) => /^(examples|scripts|test|bench|docs|cdk\.out)\/|model-server-image|tsbuildinfo/.test(f))).toEqual([]);
    expect(constructs.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(constructs).toEqual(
      expect.arrayContaining(['constructs/index.js', 'constructs/index.d.ts', 'dist/assets/sweep-functions/index.js', 'LICENSE']),
    );
  });
});
