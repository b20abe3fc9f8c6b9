#!/usr/bin/env node
// `npm run provision -- <command> …`: onboards locations and gateways (DPS enrollment, registration, tags,
// config.toml) and keeps the automatic deployments in place. Everything else is importable (run.ts).
import { runProvisionCli } from './run';

runProvisionCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`provision: fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
