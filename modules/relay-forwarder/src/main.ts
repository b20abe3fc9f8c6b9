#!/usr/bin/env node
// relay-forwarder entry point. `--config f.json`: file mode (cli.ts). No --config (how IoT Edge starts it): twin
// mode (twin-cli.ts), configured by the module twin. Everything else is importable.
import { runModuleMain } from '../../common/src/module-cli/main';
import { forwarderObservability } from './observability-process';
import { runForwarderCli } from './cli';
import { runForwarderTwinCli } from './twin-cli';

// Telemetry and /healthz + /readyz start when the mode's CLI hands over its runtime; shut down before exiting.
runModuleMain({
  name: 'relay-forwarder',
  observability: forwarderObservability({ signals: process }),
  fileCli: runForwarderCli,
  twinCli: runForwarderTwinCli,
});
