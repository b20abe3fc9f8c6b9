#!/usr/bin/env node
// relay-gateway entry point. `--config f.json`: file mode (cli.ts). No --config (how IoT Edge starts it): twin mode
// (twin-cli.ts), configured by the module twin. Everything else is importable.
import { runModuleMain } from '../../common/src/module-cli/main';
import { gatewayObservability } from './observability-process';
import { runGatewayCli } from './cli';
import { runGatewayTwinCli } from './twin-cli';

// Telemetry and /healthz + /readyz start when the mode's CLI hands over its runtime; shut down before exiting.
runModuleMain({
  name: 'relay-gateway',
  observability: gatewayObservability({ signals: process }),
  fileCli: runGatewayCli,
  twinCli: runGatewayTwinCli,
});
