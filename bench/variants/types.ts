import type { VariantName } from '../options';
import type { BenchProcess } from '../process/bench-process';
import type { BenchBuild } from '../process/build';
import type { BenchRelay } from '../relay';

/** What every variant is started with. */
export interface VariantContext {
  readonly target: { readonly host: string; readonly port: number };
  /** Undefined when only `direct` runs. */
  readonly relay?: BenchRelay;
  readonly build?: BenchBuild;
  /** A private temporary directory for config files. */
  readonly workDir: string;
  readonly log: (line: string) => void;
  /** Write CPU profiles of the variant's gateway and forwarder processes here. */
  readonly cpuProfDir?: string;
}

/** A started variant: clients connect to `entryPort`; its processes are measured by role. */
export interface RunningVariant {
  readonly name: VariantName;
  readonly entryPort: number;
  /** Sender side ("gateway") and listener side ("forwarder"); empty for direct. */
  readonly processes: readonly BenchProcess[];
  /** Listener control channels the variant holds on its hybrid connection. */
  readonly listeners: number;
  /** Relay connections it holds with no client on them (the gateway's warm pool bound); 0 when absent. */
  readonly idleRelayConnections?: number;
  stop(): Promise<void>;
}

/** Starts a variant and resolves once it carries traffic. */
export interface VariantDefinition {
  readonly name: VariantName;
  /** Repository-relative .ts entries its child processes run (compiled before the run). */
  readonly entries: readonly string[];
  /** One-line description for the report. */
  readonly description: string;
  start(context: VariantContext): Promise<RunningVariant>;
}

/** A one-line JSON message a bench child prints on stdout when it is ready. */
export interface ChildReadyMessage {
  readonly event: 'ready';
  /** The port a sender-side child listens on. */
  readonly port?: number;
}

/** Configuration handed to the baseline and hyco-ws children in BENCH_CHILD_CONFIG (kept out of argv). */
export interface ChildConfig {
  readonly namespace: string;
  readonly path: string;
  readonly keyName: string;
  readonly key: string;
  /** The sandbox CA file (ws@8 children take it as an option; hyco-ws gets NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
  /** Listener side: where to dial. */
  readonly targetHost?: string;
  readonly targetPort?: number;
}

/** Environment variable carrying {@link ChildConfig} as JSON. */
export const CHILD_CONFIG_ENV = 'BENCH_CHILD_CONFIG';

/** Reads the child configuration from the environment (children only). */
export function readChildConfig(): ChildConfig {
  const raw = process.env[CHILD_CONFIG_ENV];
  if (!raw) throw new Error(`${CHILD_CONFIG_ENV} is not set`);
  return JSON.parse(raw) as ChildConfig;
}

/** Prints the ready line and ends the process when stdin closes (the bench owns its children's lifetime). */
export function announceReady(message: Omit<ChildReadyMessage, 'event'> = {}): void {
  process.stdout.write(`${JSON.stringify({ event: 'ready', ...message })}\n`);
}

/** Exits when the parent closes stdin or sends SIGTERM/SIGINT, after `cleanup` (bounded). */
export function exitWithParent(cleanup: () => Promise<void>): void {
  let exiting = false;
  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    cleanup().finally(() => process.exit(0));
  };
  process.stdin.on('end', exit);
  process.stdin.resume();
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
}
