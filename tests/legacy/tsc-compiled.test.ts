import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';

/**
 * Principle 7 as a user meets it: real `tsc` output of a decorated class, in both compilation
 * modes, run against the built package, and the built type declarations checked by `tsc` in both
 * modes. (The other decorator tests are compiled by esbuild, which cannot emit decorator metadata.)
 *
 * The package is built with the project's tsup config into a private directory under
 * node_modules/.cache, so this suite never deletes or rewrites dist/ while something else uses it.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const isCI = process.env.CI === 'true' || process.env.CI === '1';

let dir = '';
let buildError: string | undefined;

beforeAll(async () => {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'enterprise-tsc-'));
  try {
    await run(process.execPath, [join(root, 'node_modules', '.bin', 'tsup'), '--out-dir', dir], {
      cwd: root,
      // A build with declarations takes about 45 s on an idle two-core machine; much more under
      // a full parallel test run.
      timeout: 240_000,
    });
    // Under node_modules the package scope stops, so say again that .js files are ES modules.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  } catch (error) {
    const output = error as { stderr?: string; message: string; killed?: boolean };
    const tail = (output.stderr || output.message).trim().split('\n').slice(-15).join('\n');
    buildError = output.killed ? `timed out after 240 s\n${tail}` : tail;
  }
}, 260_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The build directory, or skips the test (fails it under CI) when the package did not build. */
function built(context: TestContext): string {
  if (buildError !== undefined) {
    const message = `the package could not be built with tsup, so the compiled-output tests cannot run:\n${buildError}`;
    if (isCI) throw new Error(message);
    context.skip(message);
  }
  return dir;
}

type Mode = 'legacy' | 'standard';

const DECORATOR_OPTIONS: Record<Mode, ts.CompilerOptions> = {
  legacy: { experimentalDecorators: true, emitDecoratorMetadata: true },
  standard: {},
};

/** A host service as a user writes it; `specifier` is how it imports the package. */
function consumerSource(specifier: string, esm: boolean): string {
  return `
import 'reflect-metadata';
import { configure, createMethodDecorator, MonitorPerformance } from '${specifier}';

/** Stores reflect-metadata on the method, as NestJS's route decorators do. */
const Role = (role: string) =>
  createMethodDecorator('Role', (original) => {
    Reflect.defineMetadata('role', role, original);
    return original;
  });

export class Greeting {
  constructor(readonly text: string) {}
}

export class Greeter {
  @MonitorPerformance()
  @Role('admin')
  greet(name: string, times: number): string {
    return ('hello ' + name).repeat(times);
  }

  @MonitorPerformance({ name: 'greeter_async', thresholdMs: 50, labels: { tier: 'free' } })
  async later(greeting: Greeting): Promise<string> {
    return greeting.text;
  }

  @MonitorPerformance('greeter_fail')
  fail(): never {
    throw 'plain string';
  }

  @MonitorPerformance()
  static make(): Greeter {
    return new this();
  }
}

export async function main(): Promise<void> {
  const enterprise = configure({ env: {}, logLevel: 'silent', performance: { systemMetrics: false } });
  const greeter = Greeter.make();
  const sync = greeter.greet('ada', 2);
  const pending = greeter.later(new Greeting('hi'));
  const later = await pending;
  let thrown: unknown;
  try {
    greeter.fail();
  } catch (error) {
    thrown = error;
  }
  const all = (name: string) => enterprise.performance.getStats(name)?.windows.all;
  const types = (key: string): string[] | null => {
    const found = Reflect.getMetadata('design:paramtypes', Greeter.prototype, key) as
      | Function[]
      | undefined;
    return found === undefined ? null : found.map((type) => type.name);
  };
  console.log(
    JSON.stringify({
      sync,
      syncType: typeof sync,
      later,
      pendingIsPromise: pending instanceof Promise,
      thrown,
      counts: {
        greet: all('Greeter.greet')?.count ?? 0,
        later: all('greeter_async')?.count ?? 0,
        make: all('Greeter.make')?.count ?? 0,
        fail: all('greeter_fail')?.errors ?? 0,
      },
      name: Greeter.prototype.greet.name,
      length: Greeter.prototype.greet.length,
      role: Reflect.getMetadata('role', Greeter.prototype.greet) ?? null,
      greetParamTypes: types('greet'),
      laterParamTypes: types('later'),
    }),
  );
  await enterprise.shutdown();
}

${esm ? 'await main();' : 'void main();'}
`;
}

/** Type-only checks appended to the consumer: never run, only type-checked. */
const TYPE_ONLY_CHECKS = `
export function typeOnly(): void {
  class Misuse {
    // @ts-expect-error thresholdMs is a number of milliseconds
    @MonitorPerformance({ thresholdMs: '10' })
    run(): void {}

    // @ts-expect-error an attribute value is a string, number or boolean
    @MonitorPerformance({ attributes: { user: { id: 1 } } })
    other(): void {}
  }
  void Misuse;
}
`;

/** A generic method, as in repositories and mappers. */
const GENERIC_METHOD = `
export class Mapper {
  @MonitorPerformance()
  identity<T>(value: T): T {
    return value;
  }
}
`;

/** Compiles `source` to JavaScript the way tsc does for one file. */
function transpile(source: string, mode: Mode, module: ts.ModuleKind, fileName: string): string {
  return ts.transpileModule(source, {
    fileName,
    reportDiagnostics: false,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module, ...DECORATOR_OPTIONS[mode] },
  }).outputText;
}

async function runNode(file: string): Promise<any> {
  const { stdout } = await run(process.execPath, [file], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    timeout: 15_000,
  });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null');
}

const programs = new Map<Mode, ts.Program>();

/**
 * Type-checks, in `mode`, a program made of the consumer (as ESM and as CJS, plus type-only checks)
 * and a decorated generic method, built once per mode; returns the diagnostics of the files whose
 * name starts with `prefix`.
 */
function diagnosticsOf(mode: Mode, prefix: 'types-' | 'generic-'): string[] {
  let program = programs.get(mode);
  if (program === undefined) {
    const files: Record<string, string> = {
      [`types-${mode}.mts`]: consumerSource('./index.js', true) + TYPE_ONLY_CHECKS,
      [`types-${mode}.cts`]: consumerSource('./index.cjs', false) + TYPE_ONLY_CHECKS,
      [`generic-${mode}.mts`]: `import { MonitorPerformance } from './index.js';\n${GENERIC_METHOD}`,
    };
    const roots = Object.entries(files).map(([name, source]) => {
      const path = join(dir, name);
      writeFileSync(path, source);
      return path;
    });
    program = ts.createProgram(roots, {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      noEmit: true,
      skipLibCheck: false,
      ...DECORATOR_OPTIONS[mode],
    });
    programs.set(mode, program);
  }
  const host = ts.createCompilerHost(program.getCompilerOptions());
  // Global diagnostics and those in the built declarations go with the consumer check.
  const belongs = (file: ts.SourceFile | undefined): boolean => {
    if (file === undefined) return prefix === 'types-';
    if (!file.fileName.startsWith(dir)) return false;
    const name = file.fileName.slice(dir.length + 1);
    return name.startsWith(prefix) || (prefix === 'types-' && !name.startsWith('generic-'));
  };
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => belongs(diagnostic.file))
    .map((diagnostic) => ts.formatDiagnostic(diagnostic, host).trim());
}

describe.each<Mode>(['legacy', 'standard'])(
  'tsc-compiled @MonitorPerformance (%s decorators)',
  (mode) => {
    const expectedParamTypes =
      mode === 'legacy'
        ? { greetParamTypes: ['String', 'Number'], laterParamTypes: ['Greeting'] }
        : { greetParamTypes: null, laterParamTypes: null };

    function checkRun(result: any): void {
      expect(result).toEqual({
        sync: 'hello adahello ada',
        syncType: 'string',
        later: 'hi',
        pendingIsPromise: true,
        thrown: 'plain string',
        counts: { greet: 1, later: 1, make: 1, fail: 1 },
        name: 'greet',
        length: 2,
        role: 'admin',
        ...expectedParamTypes,
      });
    }

    it('runs as an ES module against the built package and records every call', async (context) => {
      const build = built(context);
      const js = transpile(
        consumerSource('./index.js', true),
        mode,
        ts.ModuleKind.ESNext,
        'esm.mts',
      );
      if (mode === 'legacy') {
        expect(js).toContain('__decorate(');
        expect(js).toContain('__metadata("design:paramtypes", [String, Number])');
      } else {
        expect(js).toContain('__esDecorate(');
        expect(js).not.toContain('__metadata(');
      }
      const file = join(build, `consumer-${mode}.mjs`);
      writeFileSync(file, js);
      checkRun(await runNode(file));
    });

    it('runs as CommonJS against the built package and records every call', async (context) => {
      const build = built(context);
      const js = transpile(
        consumerSource('./index.cjs', false),
        mode,
        ts.ModuleKind.CommonJS,
        'cjs.cts',
      );
      expect(js).toContain('require("./index.cjs")');
      const file = join(build, `consumer-${mode}.cjs`);
      writeFileSync(file, js);
      checkRun(await runNode(file));
    });

    it('type-checks against the built declarations (ESM and CJS), rejecting invalid options', (context) => {
      built(context);
      expect(diagnosticsOf(mode, 'types-')).toEqual([]);
    });

    it('type-checks a decorated generic method', (context) => {
      built(context);
      expect(diagnosticsOf(mode, 'generic-')).toEqual([]);
    });
  },
);
