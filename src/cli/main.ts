#!/usr/bin/env node
// `npx revcopy-enterprise`: the operators' command line (see docs/cli.md).
import { runCli } from './run.js';

void runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then((code) => {
  process.exitCode = code;
});
