/** A started sandbox service as its process entry sees it. */
export interface SandboxProcessStarted {
  /** Stops the service cleanly. */
  stop(): Promise<void>;
  /** What to print on stdout once it runs: the banner, or one JSON line. */
  readonly output: string;
}

/**
 * The process plumbing of a sandbox service's `*-main.ts`: runs `start` (argument parsing included), prints its
 * output, and stops the service on SIGINT or SIGTERM (exit 0, or 1 when stopping fails; a second signal exits 130
 * at once). A failed start prints `{name} failed to start: …` and exits 1. `name` reads like `sandbox relay`.
 */
export function runSandboxProcess(name: string, start: () => Promise<SandboxProcessStarted>): void {
  const main = async (): Promise<void> => {
    const service = await start();
    process.stdout.write(`${service.output}\n`);
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(130); // a second Ctrl-C does not wait
      stopping = true;
      process.stderr.write(`${signal}: stopping the ${name}\n`);
      service.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${name} failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
