/**
 * npx tsx bench/security-clients.bench.ts (part of `npm run bench:security`)
 *
 * The memory of the client risk scores and of the ban cache, in one process:
 *
 * 1. `ClientRisk` holding 100,000 clients (90% IPv4 addresses, 10% IPv6 /64 keys), each with a
 *    threat, a failed login and a response recorded: heap and array buffers after a full GC, over
 *    the same process before the risk was built;
 * 2. the same risk after 1,000,000 distinct clients went through it (eviction at work, full);
 * 3. the cost of one signal (`recordLoginFailure` on a tracked client) and of `top(10)` at
 *    100,000 clients;
 * 4. `BanList` holding 10,000 bans (memory store), and the cost of `isBanned` on a miss and a hit;
 * 5. the whole `Security` module (memory stores, a default rate limit per client) after 100,000
 *    clients each sent a request answered 404, one in ten also failing a login: every part that
 *    keeps state per client (risk, rate-limit cells, auth bursts, login analytics, limit levels)
 *    counted together; then after 1,000,000 clients.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BanList } from '../src/security/clients/ban-list.js';
import { ClientRisk } from '../src/security/clients/client-risk.js';
import { Security } from '../src/security/security.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** The median of 5 rounds of `body`, in nanoseconds per call (`calls` calls a round). */
function nsPerCall(calls: number, body: () => void): string {
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    body();
    rounds.push(((performance.now() - started) * 1e6) / calls);
  }
  return `${rounds.sort((a, b) => a - b)[2]!.toFixed(0)} ns`;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

function clientKey(i: number): string {
  return i % 10 === 0
    ? `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`
    : `${10 + (i >>> 24)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

function fill(risk: ClientRisk, from: number, count: number): void {
  for (let i = from; i < from + count; i++) {
    const client = clientKey(i);
    risk.recordThreat({
      category: 'scanner',
      confidence: 0.5,
      rule: 'bench',
      client,
      location: 'header:user-agent',
      blocked: false,
      at: 0,
    });
    risk.recordLoginFailure(client);
    risk.recordResponse(client, 404);
  }
}

const base = used();
const risk = new ClientRisk({ maxClients: 100_000 });
fill(risk, 0, 100_000);
const full = used() - base;
console.log(
  `ClientRisk, 100,000 clients:            ${mb(full)} (${Math.round(full / 100_000)} bytes a client)`,
);

fill(risk, 100_000, 900_000);
console.log(`ClientRisk after 1,000,000 clients:     ${mb(used() - base)} (${risk.size} tracked)`);

// Keys made beforehand: the timings are of the calls, not of building strings.
const tracked = Array.from({ length: 100_000 }, (_, i) => clientKey(900_000 + i));
const signal = nsPerCall(1_000_000, () => {
  for (let i = 0; i < 1_000_000; i++) risk.recordLoginFailure(tracked[i % 100_000]!);
});
console.log(`recordLoginFailure (tracked client):    ${signal}`);
const top = nsPerCall(1, () => risk.top(10));
console.log(
  `top(10) at 100,000 clients:             ${(Number.parseFloat(top) / 1e6).toFixed(1)} ms`,
);

risk.clear();
const beforeBans = used();
const bans = new BanList();
for (let i = 0; i < 10_000; i++) await bans.ban(clientKey(i), '1h', 'bench');
console.log(`BanList, 10,000 bans:                   ${mb(used() - beforeBans)}`);
const probes = Array.from({ length: 20_000 }, (_, i) => clientKey(i));
let hits = 0;
const lookup = nsPerCall(1_000_000, () => {
  hits = 0;
  for (let i = 0; i < 1_000_000; i++) if (bans.isBanned(probes[i % 20_000]!)) hits++;
});
console.log(`isBanned (half hits):                   ${lookup} (${hits} hits)`);
await bans.close();

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const beforeModule = used();
const security = new Security({
  logger: quiet,
  rateLimit: { default: { limit: 600, window: '1m' } },
});
async function traffic(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const client = clientKey(i).replace('::/64', '::1');
    const verdict = await security.inspect({
      method: 'GET',
      path: '/wp-login.php',
      query: '',
      headers: { 'user-agent': 'Mozilla/5.0' },
      remoteAddress: client,
    });
    security.observe(verdict, 404);
    if (i % 10 === 0)
      security.recordLogin({ userId: `user${i % 5_000}`, ip: client, success: false });
  }
}
await traffic(0, 100_000);
const moduleFull = used() - beforeModule;
console.log(
  `Security, 100,000 clients:              ${mb(moduleFull)} (${Math.round(moduleFull / 100_000)} bytes a client)`,
);
await traffic(100_000, 900_000);
console.log(`Security after 1,000,000 clients:       ${mb(used() - beforeModule)}`);
await security.close();
