import { parseCommandLine, STANDARD_USAGE_LINES } from '../modules/common/src/cli/command-line';

/** The four set-ups the bench compares. */
export const VARIANT_NAMES = ['direct', 'baseline', 'hyco-ws', 'ours'] as const;

/** One of {@link VARIANT_NAMES}. */
export type VariantName = (typeof VARIANT_NAMES)[number];

/** Everything one bench run does, from the command line. */
export interface BenchOptions {
  readonly variants: readonly VariantName[];
  /** Bytes moved by each bulk measurement, in MiB (the parallel one splits them over `streams`). */
  readonly totalMiB: number;
  /** Parallel streams of the second bulk measurement. */
  readonly streams: number;
  /** Rounds each bulk measurement is split into, variants taking turns (fairness under drift and noise). */
  readonly bulkRounds: number;
  /** Sequential connections of the latency measurement. */
  readonly connections: number;
  /** Connections opened before the latency figures count (JIT, TLS session set-up). */
  readonly warmupConnections: number;
  /** Concurrent idle tunneled connections of the memory measurement (0 skips it). */
  readonly idle: number;
  /** How long the idle connections are held open before they are checked again. */
  readonly idleHoldMs: number;
  /** Print exactly one JSON object on stdout (progress goes to stderr either way). */
  readonly json: boolean;
  /** Test aid: put a proxy that flips one bit per connection in front of this variant's bulk streams. */
  readonly corruptVariant?: VariantName;
  /** Write V8 CPU profiles of the tunneled variants' gateway and forwarder processes into this directory. */
  readonly cpuProfDir?: string;
}

/** Usage text for --help and bad command lines. */
export const USAGE = `Usage: npm run bench -- [options]

  --variants a,b,...     which of ${VARIANT_NAMES.join(', ')} to run (default: all)
  --total-mib N          MiB per bulk measurement, single stream and parallel each (default 1024)
  --streams N            parallel streams of the second bulk measurement (default 8)
  --bulk-rounds N        split each bulk measurement into N rounds, variants taking turns (default 4)
  --connections N        sequential connections for connect+first-byte latency (default 1000)
  --warmup N             uncounted connections before the latency run (default 20)
  --idle N               concurrent idle tunneled connections for the memory figure (default 2000; 0 skips)
  --idle-hold-ms N       how long the idle connections stay open before they are checked (default 3000)
  --json                 one JSON object on stdout with every figure (logs stay on stderr)
  --corrupt-variant V    test aid: flip one bit in each bulk stream of variant V (it must be reported failed)
  --cpu-prof DIR         write CPU profiles of the gateway and forwarder processes to DIR
${STANDARD_USAGE_LINES}
Exit codes: 0 every variant passed, 1 a variant failed, 64 bad command line, 70 the bench itself broke.
`;

/** Defaults of the full-size run. */
export const DEFAULT_OPTIONS: BenchOptions = Object.freeze({
  variants: VARIANT_NAMES,
  totalMiB: 1024,
  streams: 8,
  bulkRounds: 4,
  connections: 1000,
  warmupConnections: 20,
  idle: 2000,
  idleHoldMs: 3000,
  json: false,
});

/** Parses argv (after the script name); returns an error text instead of throwing. */
export function parseBenchArgs(
  argv: readonly string[],
): { ok: true; options: BenchOptions } | { ok: false; help: boolean; version?: boolean; error?: string } {
  const line = parseCommandLine(argv, {
    variants: { type: 'string' },
    'total-mib': { type: 'string' },
    streams: { type: 'string' },
    'bulk-rounds': { type: 'string' },
    connections: { type: 'string' },
    warmup: { type: 'string' },
    idle: { type: 'string' },
    'idle-hold-ms': { type: 'string' },
    json: { type: 'boolean' },
    'corrupt-variant': { type: 'string' },
    'cpu-prof': { type: 'string' },
  });
  if (line.kind === 'error') return { ok: false, help: false, error: line.error };
  if (line.kind === 'help') return { ok: false, help: true };
  if (line.kind === 'version') return { ok: false, help: false, version: true };
  const values = line.values as Record<string, string | boolean | undefined> as {
    variants?: string;
    'total-mib'?: string;
    streams?: string;
    'bulk-rounds'?: string;
    connections?: string;
    warmup?: string;
    idle?: string;
    'idle-hold-ms'?: string;
    json?: boolean;
    'corrupt-variant'?: string;
    'cpu-prof'?: string;
  };
  const problems: string[] = [];
  const integer = (flag: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) problems.push(`--${flag} must be a whole number >= ${min}`);
    return n;
  };
  const variantList = (raw: string): VariantName[] => {
    const names = raw.split(',').map((s) => s.trim());
    const unknown = names.filter((n) => !(VARIANT_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) problems.push(`unknown variant(s) ${unknown.join(', ')}`);
    // Keep the canonical order so reports always read the same way.
    return VARIANT_NAMES.filter((n) => names.includes(n));
  };
  const variants = values.variants === undefined ? DEFAULT_OPTIONS.variants : variantList(values.variants);
  if (variants.length === 0) problems.push('--variants names no variant');
  let corruptVariant: VariantName | undefined;
  if (values['corrupt-variant'] !== undefined) {
    [corruptVariant] = variantList(values['corrupt-variant']);
    if (corruptVariant !== undefined && !variants.includes(corruptVariant))
      problems.push('--corrupt-variant must be one of the variants run');
  }
  const options: BenchOptions = {
    variants,
    totalMiB: integer('total-mib', values['total-mib'], DEFAULT_OPTIONS.totalMiB, 1),
    streams: integer('streams', values.streams, DEFAULT_OPTIONS.streams, 1),
    bulkRounds: integer('bulk-rounds', values['bulk-rounds'], DEFAULT_OPTIONS.bulkRounds, 1),
    connections: integer('connections', values.connections, DEFAULT_OPTIONS.connections, 1),
    warmupConnections: integer('warmup', values.warmup, DEFAULT_OPTIONS.warmupConnections, 0),
    idle: integer('idle', values.idle, DEFAULT_OPTIONS.idle, 0),
    idleHoldMs: integer('idle-hold-ms', values['idle-hold-ms'], DEFAULT_OPTIONS.idleHoldMs, 0),
    json: values.json === true,
    ...(corruptVariant !== undefined && { corruptVariant }),
    ...(values['cpu-prof'] !== undefined && { cpuProfDir: values['cpu-prof'] }),
  };
  if (problems.length > 0) return { ok: false, help: false, error: problems.join('; ') };
  return { ok: true, options };
}
