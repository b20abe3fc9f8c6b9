import { wantsDebug } from './command-line';
import { failureExit } from './failure';

/**
 * The process plumbing of a command's entry point: runs `main` with argv, exits with the code it resolves with;
 * what it throws is printed by {@link failureExit} (a stack trace only with --debug). `exit: 'natural'` sets
 * process.exitCode and lets the event loop drain instead of exiting at once.
 */
export function runMain(
  name: string,
  main: (argv: readonly string[]) => Promise<number>,
  options: { readonly exit?: 'now' | 'natural'; readonly usage?: string } = {},
): void {
  const argv = process.argv.slice(2);
  const finish = (code: number): void => {
    if (options.exit === 'natural') process.exitCode = code;
    else process.exit(code);
  };
  main(argv).then(finish, (err: unknown) =>
    finish(failureExit(name, err, process.stderr, wantsDebug(argv), options.usage)),
  );
}
