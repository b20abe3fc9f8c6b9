import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster on loopback, for pgbench with a new connection per transaction. */
export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** pgbench's figures for one path over all its rounds. */
export interface PgbenchResult {
  readonly status: 'ok' | 'failed';
  readonly clients: number;
  /** Transactions over the summed round time (each round's tps weighted by its length). */
  readonly tps: number | null;
  readonly transactions: number;
  readonly failedTransactions: number;
  readonly rounds: number;
  readonly roundTps: readonly number[];
  readonly errors: readonly string[];
}

/** The role pgbench connects as (trust authentication on loopback: a throwaway cluster). */
const ROLE = 'bench';

async function commandPrefix(): Promise<string[]> {
  // PostgreSQL refuses to run as root; as root, run the server tools as the packaged `postgres` user.
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
}

async function asServerUser(prefix: readonly string[], command: string, args: readonly string[]) {
  const [file, ...rest] = prefix.length > 0 ? [...prefix, command, ...args] : [command, ...args];
  return run(file!, rest, { timeout: 120_000 });
}

/**
 * Starts a PostgreSQL server from the installed binaries (`pg_config --bindir`) in a temporary directory,
 * initialised for pgbench (scale 1); undefined, with the reason logged, when PostgreSQL or pgbench is missing.
 */
export async function startLocalPostgres(
  port: number,
  log: (line: string) => void,
): Promise<LocalPostgres | undefined> {
  let bindir: string;
  try {
    bindir = (await run('pg_config', ['--bindir'])).stdout.trim();
    await run('pgbench', ['--version']);
  } catch {
    log('pgbench: PostgreSQL server or pgbench not installed (pg_config, pgbench): skipped');
    return undefined;
  }
  const prefix = await commandPrefix();
  const dir = await mkdtemp(join(tmpdir(), 'bench-pg-'));
  const data = join(dir, 'data');
  if (prefix.length > 0) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  const pgCtl = join(bindir, 'pg_ctl');
  try {
    await asServerUser(prefix, join(bindir, 'initdb'), ['-D', data, '-A', 'trust', '-U', ROLE, '--no-sync']);
    const serverOptions =
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off ` +
      '-c max_connections=200';
    await asServerUser(prefix, pgCtl, [
      'start',
      '-w',
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-o',
      serverOptions,
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`starting PostgreSQL failed: ${(err as Error).message}`, { cause: err });
  }
  const stop = async (): Promise<void> => {
    await asServerUser(prefix, pgCtl, ['stop', '-m', 'immediate', '-D', data]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('pgbench', [
      '-i',
      '-q',
      '-s',
      '1',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      ROLE,
      'postgres',
    ]);
  } catch (err) {
    await stop();
    throw new Error(`pgbench -i failed: ${(err as Error).message}`, { cause: err });
  }
  log(`pgbench: PostgreSQL ${bindir.split('/').slice(-2, -1)[0] ?? ''} on 127.0.0.1:${port}`);
  return { host: '127.0.0.1', port, stop };
}

/** One pgbench round: select-only transactions, a new connection for each (`-C`), `clients` at a time. */
export async function runPgbenchRound(
  port: number,
  options: { readonly clients: number; readonly seconds: number },
): Promise<{ tps: number; transactions: number; failed: number; seconds: number } | { error: string }> {
  const args = ['-C', '-S', '-n', '-c', String(options.clients), '-j', '1', '-T', String(options.seconds)];
  try {
    const { stdout } = await run(
      'pgbench',
      [...args, '-h', '127.0.0.1', '-p', String(port), '-U', ROLE, 'postgres'],
      {
        timeout: (options.seconds + 120) * 1000,
      },
    );
    const number = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? NaN);
    const tps = number(/^tps = ([\d.]+)/m);
    const transactions = number(/number of transactions actually processed: (\d+)/);
    const failed = number(/number of failed transactions: (\d+)/);
    if (Number.isNaN(tps)) return { error: `no tps in pgbench's output: ${stdout.slice(0, 300)}` };
    return { tps, transactions, failed: Number.isNaN(failed) ? 0 : failed, seconds: options.seconds };
  } catch (err) {
    const e = err as Error & { stderr?: string };
    return { error: `pgbench failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-2).join(' ')}` };
  }
}

/** Adds pgbench rounds of one path up. */
export class PgbenchAccumulator {
  private readonly rounds: Array<{ tps: number; transactions: number; failed: number; seconds: number }> = [];
  private readonly errors: string[] = [];

  constructor(private readonly clients: number) {}

  add(round: Awaited<ReturnType<typeof runPgbenchRound>>): void {
    if ('error' in round) this.errors.push(round.error);
    else this.rounds.push(round);
  }

  result(): PgbenchResult {
    const failedTransactions = this.rounds.reduce((a, r) => a + r.failed, 0);
    const ok = this.errors.length === 0 && failedTransactions === 0 && this.rounds.length > 0;
    const seconds = this.rounds.reduce((a, r) => a + r.seconds, 0);
    const weighted = this.rounds.reduce((a, r) => a + r.tps * r.seconds, 0);
    return {
      status: ok ? 'ok' : 'failed',
      clients: this.clients,
      tps: ok ? Math.round((weighted / seconds) * 10) / 10 : null,
      transactions: this.rounds.reduce((a, r) => a + r.transactions, 0),
      failedTransactions,
      rounds: this.rounds.length,
      roundTps: this.rounds.map((r) => Math.round(r.tps * 10) / 10),
      errors: [...this.errors],
    };
  }
}
