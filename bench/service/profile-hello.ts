/**
 * `tsx bench/service/profile-hello.ts <fastify|express> <variant> [requests]`: one hello-world
 * application of bench:service in a child process under `--cpu-prof`, warmed up, then driven at
 * saturation (10 connections) for `requests` requests (50,000), and the functions with the most
 * CPU time printed (self time; the `.cpuprofile` is kept for a viewer). For diagnosis only.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [framework = 'express', variant = 'ours', requests = '50000'] = process.argv.slice(2);
const dir = mkdtempSync(join(os.tmpdir(), 'bench-service-profile-'));
type Autocannon = (options: object) => Promise<{ requests: { total: number } }>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const child = fork(
  fileURLToPath(new URL('./child.ts', import.meta.url)),
  ['hello', framework, variant],
  {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${dir}`],
  },
);
const port = await new Promise<number>((resolve) =>
  child.once('message', (message: { port: number }) => resolve(message.port)),
);
const url = `http://127.0.0.1:${port}`;
await autocannon({ url, connections: 10, amount: 20_000 });
await autocannon({ url, connections: 10, amount: Number(requests) });
const exited = new Promise((resolve) => child.once('exit', resolve));
child.send({ id: 1, type: 'stop' });
await exited;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))!;
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const { functionName, url: source, lineNumber } = byId.get(id)!.callFrame;
  const name = `${functionName || '(anonymous)'} ${source.replace(/.*node_modules\//, '')}:${lineNumber + 1}`;
  const delta = profile.timeDeltas[i] ?? 0;
  self.set(name, (self.get(name) ?? 0) + delta);
  total += delta;
});
console.log(`${framework} ${variant}: ${join(dir, file)}`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  console.log(`${((100 * us) / total).toFixed(2).padStart(6)} %  ${name}`);
}
