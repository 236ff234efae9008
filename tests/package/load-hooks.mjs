// Module hooks of load-probe.mjs: appends every URL the ES module loader loads to LOAD_LOG,
// synchronously, so the list is complete when the probed import resolves.
import { appendFileSync } from 'node:fs';

let log;

export function initialize(data) {
  log = data.log;
}

export async function load(url, context, nextLoad) {
  appendFileSync(log, `${url}\n`);
  return nextLoad(url, context);
}
