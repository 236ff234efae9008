// Writes a report's formats as files of a directory, each written to a temporary name and renamed,
// so a reader never sees half a file.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** @internal The file name stem of a report over a range: `<name>-<from>-<to>` in compact UTC. */
export function fileStem(name: string, from: string, to: string): string {
  const compact = (iso: string) => iso.slice(0, 16).replace(/[-:]/g, '');
  return `${name}-${compact(from)}-${compact(to)}`;
}

/** @internal Writes each `[filename, body]` into `directory` (created if missing); resolves the paths. */
export async function writeReportFiles(
  directory: string,
  files: readonly { filename: string; body: string }[],
): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const written: string[] = [];
  for (const file of files) {
    const path = join(directory, file.filename);
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, file.body, 'utf8');
    await rename(temporary, path);
    written.push(path);
  }
  return written;
}
