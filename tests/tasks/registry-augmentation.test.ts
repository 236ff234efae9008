import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const entry = resolve('src/tasks/index.ts').replace(/\.ts$/, '.js');

/** Type-checks `source` (a user's file) against the tasks entry; resolves the error messages. */
function typeErrors(source: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tasks-augment-'));
  try {
    const file = join(dir, 'app.ts');
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [resolve('node_modules/@types')],
    });
    return ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('augmenting TaskRegistry with declare module', () => {
  it('makes submitTask check names and payloads at compile time', () => {
    const errors = typeErrors(`
      import { submitTask } from ${JSON.stringify(entry)};
      declare module ${JSON.stringify(entry)} {
        interface TaskRegistry {
          process_analytics: { userId: number };
          nightly: undefined;
        }
      }
      export async function ok() {
        await submitTask('process_analytics', { userId: 1 });
        await submitTask('nightly');
      }
      export async function wrongName() {
        await submitTask('proces_analytics', { userId: 1 });
      }
      export async function wrongPayload() {
        await submitTask('process_analytics', { userId: 'one' });
      }
    `);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('"proces_analytics"');
    expect(errors[1]).toContain('string');
  }, 60_000);
});
