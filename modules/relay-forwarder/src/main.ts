#!/usr/bin/env node
// relay-forwarder entry point. `--config f.json`: file mode (cli.ts). No --config (how IoT Edge starts it): twin
// mode (twin-cli.ts), configured by the module twin. Everything else is importable.
import { selectModuleMode } from '../../common/src/twin/twin-process';
import { forwarderObservability } from './observability-process';
import { runForwarderCli } from './cli';
import { runForwarderTwinCli } from './twin-cli';

const argv = process.argv.slice(2);
// Telemetry and /healthz + /readyz start when the mode's CLI hands over its runtime; shut down before exiting.
const observability = forwarderObservability({ signals: process });
const run = selectModuleMode(argv) === 'file' ? runForwarderCli : runForwarderTwinCli;
run(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
  extensions: [observability.extension],
}).then(
  // The Azure Monitor exporter may keep timers after its bounded shutdown: exit explicitly.
  async (code) => {
    await observability.shutdown();
    process.exit(code);
  },
  async (err: unknown) => {
    process.stderr.write(`relay-forwarder: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    await observability.shutdown();
    process.exit(70);
  },
);
