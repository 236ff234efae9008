/**
 * Where the benchmark loads @revcopy/enterprise from: its build (`dist/`, what users run) when
 * BENCH_OURS_FROM=dist, which the benchmark sets when the build is newer than the sources, else
 * the TypeScript sources. Loading the sources through tsx compiles a few hundred files in the
 * process and keeps their source maps, which adds tens of MB to its RSS that the peers, loaded
 * from plain JavaScript, do not pay.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Root = typeof import('../../src/index.js');
type Tasks = typeof import('../../src/entries/tasks.js');
type FastifyAdapter = typeof import('../../src/adapters/fastify.js');
type ExpressAdapter = typeof import('../../src/adapters/express.js');

const FROM_DIST = process.env.BENCH_OURS_FROM === 'dist';
/** Another build to load instead (the benchmark's `baseline` variant: an earlier commit's dist/). */
const OTHER_DIST = process.env.BENCH_OURS_DIST;

function load<T>(source: string, built: string): Promise<T> {
  if (OTHER_DIST !== undefined) {
    return import(pathToFileURL(join(OTHER_DIST, built)).href) as Promise<T>;
  }
  const path = FROM_DIST ? `../../dist/${built}` : `../../src/${source}`;
  return import(new URL(path, import.meta.url).href) as Promise<T>;
}

export const ours = {
  root: () => load<Root>('index.ts', 'index.js'),
  tasks: () => load<Tasks>('entries/tasks.ts', 'tasks/index.js'),
  fastify: () => load<FastifyAdapter>('adapters/fastify.ts', 'adapters/fastify.js'),
  express: () => load<ExpressAdapter>('adapters/express.ts', 'adapters/express.js'),
};
