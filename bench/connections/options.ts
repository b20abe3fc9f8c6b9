import { parseCommandLine, STANDARD_USAGE_LINES } from '../../modules/common/src/cli/command-line';
import { DEFAULT_MUX_CONNECTIONS, DEFAULT_WARM_CONNECTIONS, MODE_NAMES } from './modes';

/** The workloads of `npm run bench:connections`, in the order they run. */
export const WORKLOAD_NAMES = ['concurrent', 'requests', 'pgbench', 'fairness', 'bulk'] as const;

/** One of {@link WORKLOAD_NAMES}. */
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** Everything one run does, from the command line. */
export interface ConnectionsOptions {
  readonly workloads: readonly WorkloadName[];
  /** Gateway modes measured (see modes.ts). */
  readonly modes: readonly string[];
  /** The warm mode's pool bound per route. */
  readonly warmConnections: number;
  /** The mux mode's bound of multiplexed relay connections per route (1: every stream shares one). */
  readonly muxConnections: number;
  /** Connection-per-request: concurrent clients, rounds (paths taking turns) and each round's length. */
  readonly clients: number;
  readonly rounds: number;
  readonly roundMs: number;
  /** Concurrent idle connections held through one route, opened `rampConcurrency` at a time. */
  readonly concurrent: number;
  readonly rampConcurrency: number;
  readonly holdMs: number;
  /** Fairness: interactive round trips per phase (idle, beside bulk), in rounds. */
  readonly fairnessSamples: number;
  readonly fairnessRounds: number;
  /** Bulk: MiB per measurement (single stream, then `bulkStreams`), split into `bulkRounds`. */
  readonly bulkMiB: number;
  readonly bulkStreams: number;
  readonly bulkRounds: number;
  readonly json: boolean;
}

/** Defaults of the full-size run. */
export const DEFAULT_CONNECTIONS_OPTIONS: ConnectionsOptions = Object.freeze({
  workloads: WORKLOAD_NAMES,
  modes: MODE_NAMES,
  warmConnections: DEFAULT_WARM_CONNECTIONS,
  muxConnections: DEFAULT_MUX_CONNECTIONS,
  clients: 16,
  rounds: 3,
  roundMs: 5000,
  concurrent: 10_000,
  rampConcurrency: 64,
  holdMs: 3000,
  fairnessSamples: 400,
  fairnessRounds: 4,
  bulkMiB: 256,
  bulkStreams: 4,
  bulkRounds: 2,
  json: false,
});

/** Usage text for --help and bad command lines. */
export const CONNECTIONS_USAGE = `Usage: npm run bench:connections -- [options]

  --workloads a,b        which of ${WORKLOAD_NAMES.join(', ')} to run (default: all)
  --modes a,b            gateway modes, of ${MODE_NAMES.join(', ')} (default: all)
  --warm-connections N   the warm mode's pool bound per route (default ${DEFAULT_WARM_CONNECTIONS}, the shipped default)
  --mux-connections N    the mux mode's relay connections per route (default ${DEFAULT_MUX_CONNECTIONS}, the shipped default;
                         1 puts the fairness workload's two streams on one connection)
  --clients N            connection-per-request and pgbench: concurrent clients (default 16)
  --rounds N             connection-per-request and pgbench: rounds, direct and modes taking turns (default 3)
  --round-ms N           connection-per-request and pgbench: length of each round (default 5000)
  --concurrent N         idle client connections held at once through one route (default 10000)
  --ramp-concurrency N   how many of them are being opened at a time (default 64)
  --hold-ms N            how long they are held idle before memory is read (default 3000)
  --fairness-samples N   interactive round trips idle and beside the bulk stream, each (default 400)
  --fairness-rounds N    rounds the fairness samples are split into (default 4)
  --bulk-mib N           MiB per bulk measurement, single stream and parallel each (default 256)
  --bulk-streams N       parallel streams of the second bulk measurement (default 4)
  --bulk-rounds N        rounds each bulk measurement is split into, baseline and modes taking turns (default 2)
  --json                 one JSON object on stdout (the table goes to stderr)
${STANDARD_USAGE_LINES}
Exit codes: 0 every workload passed (missed goals are figures), 1 a workload failed (an error, a wrong answer or
digest), 64 bad command line, 70 the bench itself broke.
`;

const INTEGER_FLAGS = {
  'warm-connections': ['warmConnections', 0],
  'mux-connections': ['muxConnections', 1],
  clients: ['clients', 1],
  rounds: ['rounds', 1],
  'round-ms': ['roundMs', 1],
  concurrent: ['concurrent', 1],
  'ramp-concurrency': ['rampConcurrency', 1],
  'hold-ms': ['holdMs', 0],
  'fairness-samples': ['fairnessSamples', 1],
  'fairness-rounds': ['fairnessRounds', 1],
  'bulk-mib': ['bulkMiB', 1],
  'bulk-streams': ['bulkStreams', 1],
  'bulk-rounds': ['bulkRounds', 1],
} as const satisfies Record<string, readonly [keyof ConnectionsOptions, number]>;

function list<T extends string>(flag: string, raw: string, known: readonly T[], problems: string[]): T[] {
  const names = raw.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(known as readonly string[]).includes(n));
  if (unknown.length > 0)
    problems.push(`--${flag}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  // Canonical order, so reports always read the same way.
  const picked = known.filter((n) => names.includes(n));
  if (picked.length === 0 && unknown.length === 0) problems.push(`--${flag} names nothing`);
  return picked;
}

/** Parses argv (after the script name); returns an error text instead of throwing. */
export function parseConnectionsArgs(
  argv: readonly string[],
):
  | { ok: true; options: ConnectionsOptions }
  | { ok: false; help: boolean; version?: boolean; error?: string } {
  const specs: Record<string, { type: 'string' | 'boolean' }> = {
    workloads: { type: 'string' },
    modes: { type: 'string' },
    json: { type: 'boolean' },
  };
  for (const flag of Object.keys(INTEGER_FLAGS)) specs[flag] = { type: 'string' };
  const line = parseCommandLine(argv, specs);
  if (line.kind === 'error') return { ok: false, help: false, error: line.error };
  if (line.kind === 'help') return { ok: false, help: true };
  if (line.kind === 'version') return { ok: false, help: false, version: true };
  const values = line.values as Record<string, string | boolean | undefined>;
  const problems: string[] = [];
  const options: Record<string, unknown> = { ...DEFAULT_CONNECTIONS_OPTIONS, json: values.json === true };
  for (const [flag, [key, min]] of Object.entries(INTEGER_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) problems.push(`--${flag} must be a whole number >= ${min}`);
    options[key] = n;
  }
  if (typeof values.workloads === 'string')
    options.workloads = list('workloads', values.workloads, WORKLOAD_NAMES, problems);
  if (typeof values.modes === 'string') options.modes = list('modes', values.modes, MODE_NAMES, problems);
  if (problems.length > 0) return { ok: false, help: false, error: problems.join('; ') };
  return { ok: true, options: options as unknown as ConnectionsOptions };
}
