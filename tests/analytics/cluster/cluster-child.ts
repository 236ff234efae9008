// One instance of a deployment, for the cluster tests: records `COUNT` calls of `work` with
// latencies drawn from its own range (whole microseconds), publishes them through its cluster
// view, prints them as one JSON line once its first heartbeat is out, then waits to be killed.
import { createEnterprise } from '../../../src/index.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
const [prefix, lowMs, highMs, count, seed] = process.argv.slice(2);

let state = Number(seed) >>> 0 || 1;
const random = () => {
  // xorshift32: the same samples for the same seed.
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};

const enterprise = createEnterprise({
  logger: silent,
  env: {},
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  analytics: {
    history: false,
    cluster: { prefix: prefix!, heartbeatIntervalMs: 200, heartbeatTtlMs: 1_500 },
  },
});
await enterprise.start();
const low = Number(lowMs) * 1000;
const high = Number(highMs) * 1000;
const samples: number[] = [];
for (let i = 0; i < Number(count); i++) {
  const micros = Math.round(low + random() * (high - low));
  samples.push(micros);
  enterprise.performance.record('work', micros / 1000);
}
await enterprise.cluster.heartbeat();
process.stdout.write(`${JSON.stringify({ id: enterprise.cluster.instanceId, samples })}\n`);
setInterval(() => undefined, 60_000);
