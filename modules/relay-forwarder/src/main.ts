#!/usr/bin/env node
// relay-forwarder entry point. `--config f.json`: file mode (cli.ts). No --config (how IoT Edge starts it): twin
// mode (twin-cli.ts), configured by the module twin. Everything else is importable.
import { selectModuleMode } from '../../common/src/twin/twin-process';
import { runForwarderCli } from './cli';
import { runForwarderTwinCli } from './twin-cli';

const argv = process.argv.slice(2);
const run = selectModuleMode(argv) === 'file' ? runForwarderCli : runForwarderTwinCli;
run(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`relay-forwarder: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(70);
  },
);
