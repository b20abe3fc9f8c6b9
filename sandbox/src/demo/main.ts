/**
 * `npm run demo:tunnel`: the sandbox tunnel demo (`npm start` runs the whole fleet). Starts the sandbox relay, two sample on-prem services, relay-forwarder
 * and relay-gateway on loopback, prints the public ports and lines to try, checks them through the tunnel, and
 * runs until Ctrl-C (SIGINT) or SIGTERM, which stop everything (exit 0). `--check` stops after the self-check.
 */
import { DEMO_USAGE, parseDemoArgs } from './options';
import { formatBanner, formatCheck, onPath, tryItLines } from './print';
import { runSelfCheck } from './self-check';
import type { Demo } from './world';
import { answerParseFailure, wantsDebug } from '../../../modules/common/src/cli/command-line';
import { ExitCode } from '../../../modules/common/src/cli/exit-codes';
import { failureExit } from '../../../modules/common/src/cli/failure';
import { createProgress } from '../../../modules/common/src/cli/progress';

/** Exit codes of the demo. */
export const DemoExitCode = {
  OK: ExitCode.OK,
  /** The check failed, or a module exited on its own. */
  FAILED: ExitCode.FAILED,
  USAGE: ExitCode.USAGE,
  /** The demo could not start (one line; the stack trace with --debug). */
  SOFTWARE: ExitCode.SOFTWARE,
} as const;

const out = (text: string): void => void process.stdout.write(`${text}\n`);

async function main(): Promise<number> {
  const parsed = parseDemoArgs(process.argv.slice(2));
  if (!parsed.ok) return answerParseFailure('demo', DEMO_USAGE, parsed, process);
  const { args } = parsed;

  // Signals are taken from the start: Ctrl-C during start-up must still stop the children.
  let signalled: string | undefined;
  let onSignal: (signal: string) => void = (signal) => (signalled ??= signal);
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // A closed terminal: without a handler the demo would die and leave its modules running.
  process.on('SIGHUP', handler);

  out('Starting the sandbox relay, two sample services, relay-forwarder and relay-gateway…');
  let demo: Demo;
  const progress = createProgress(process.stdout);
  try {
    demo = await progress.step('sandbox relay, sample services, relay-forwarder and relay-gateway', () =>
      // Loaded only now: --help and a bad flag need not wait for the relay's and modules' code.
      import('./world').then(({ startDemo }) => startDemo({ stateDir: args.stateDir })),
    );
  } catch (err) {
    if (signalled) return DemoExitCode.OK;
    process.stderr.write(`demo: could not start: ${(err as Error).message}\n`);
    if (wantsDebug(process.argv)) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return DemoExitCode.SOFTWARE;
  } finally {
    progress.close();
  }

  const stop = async (why: string): Promise<boolean> => {
    out(`\n${why}: stopping relay-gateway, relay-forwarder, the services and the relay…`);
    const exits = await demo.stop();
    const clean = [exits.gateway, exits.forwarder].every((e) => e.code === 0);
    out(
      clean
        ? 'Stopped.'
        : `Stopped (relay-gateway exit ${exits.gateway.code ?? exits.gateway.signal}, relay-forwarder exit ${exits.forwarder.code ?? exits.forwarder.signal}).`,
    );
    return clean;
  };
  if (signalled) {
    await stop(signalled);
    return DemoExitCode.OK;
  }

  out('');
  out(
    formatBanner({
      namespace: demo.relay.namespace,
      caFile: demo.caFile,
      gatewayPid: demo.gateway.pid,
      forwarderPid: demo.forwarder.pid,
      gatewayConfig: demo.files.gatewayConfig,
      forwarderConfig: demo.files.forwarderConfig,
      gatewayHealthPort: demo.healthPorts.gateway,
      forwarderHealthPort: demo.healthPorts.forwarder,
      logDir: `${demo.files.dir}/logs`,
      routes: demo.routes,
    }),
  );
  out('');
  out('Try it:');
  for (const line of tryItLines(demo.routes, { hasNc: onPath('nc') })) out(`  ${line}`);
  out('');
  const results = await runSelfCheck(demo.routes, [
    { name: 'relay-gateway', port: demo.healthPorts.gateway },
    { name: 'relay-forwarder', port: demo.healthPorts.forwarder },
  ]);
  const passed = results.every((r) => r.ok);
  out(formatCheck(results));

  if (args.check || signalled) {
    const clean = await stop(signalled ?? 'check done');
    return passed && clean ? DemoExitCode.OK : DemoExitCode.FAILED;
  }

  out('');
  out(
    `Running. Edit ${demo.files.gatewayConfig} or forwarder.json to change routes live. Ctrl-C stops everything.`,
  );
  // Wait for a signal, or for a module to die on its own (then say so and stop the rest).
  const why = await new Promise<string>((resolve) => {
    onSignal = (signal) => resolve(signal);
    for (const module of [demo.gateway, demo.forwarder]) {
      void module.exited.then((exit) =>
        resolve(`${module.module} exited on its own (code ${exit.code}, signal ${exit.signal})`),
      );
    }
  });
  const unexpected = !why.startsWith('SIG');
  // A second Ctrl-C while stopping is ignored: the stop is bounded (children get SIGKILL after 10 s).
  onSignal = () => undefined;
  await stop(why);
  return unexpected ? DemoExitCode.FAILED : DemoExitCode.OK;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(failureExit('demo', err, process.stderr, wantsDebug(process.argv))),
);
