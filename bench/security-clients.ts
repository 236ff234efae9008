/**
 * npx tsx bench/security-clients.ts
 *
 * The memory of the client risk scores and of the ban cache, in one process:
 *
 * 1. `ClientRisk` holding 100,000 clients (90% IPv4 addresses, 10% IPv6 /64 keys), each with a
 *    threat, a failed login and a response recorded: heap and array buffers after a full GC, over
 *    the same process before the risk was built;
 * 2. the same risk after 1,000,000 distinct clients went through it (eviction at work, full);
 * 3. the cost of one signal (`recordLoginFailure` on a tracked client) and of `top(10)` at
 *    100,000 clients;
 * 4. `BanList` holding 10,000 bans (memory store), and the cost of `isBanned` on a miss and a hit.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BanList } from '../src/security/clients/ban-list.js';
import { ClientRisk } from '../src/security/clients/client-risk.js';

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
