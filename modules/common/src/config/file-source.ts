import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { locateJsonSyntaxError } from './json-syntax';

/** Stable codes of ConfigFileError. */
export type ConfigFileErrorCode =
  | 'CONFIG_FILE_NOT_FOUND'
  | 'CONFIG_FILE_UNREADABLE'
  | 'CONFIG_FILE_EMPTY'
  | 'CONFIG_FILE_INVALID_JSON';

/** Why a configuration file gave no document. Never carries the file's content (it may hold secrets). */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  /** Every file problem may go away when the file is rewritten, so a watcher keeps watching. */
  readonly retryable = true;

  constructor(
    readonly code: ConfigFileErrorCode,
    message: string,
    /** Absolute path of the file. */
    readonly path: string,
    /** 1-based position of a JSON syntax error. */
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One reading of a configuration file: the parsed document, or why there is none. */
export type ConfigFileResult =
  | { readonly ok: true; readonly path: string; readonly document: unknown }
  | { readonly ok: false; readonly path: string; readonly error: ConfigFileError };

/** Parses configuration text (a UTF-8 BOM is allowed); syntax errors carry line and column. */
export function parseConfigText(text: string, path = '<text>'): ConfigFileResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '')
    return { ok: false, path, error: new ConfigFileError('CONFIG_FILE_EMPTY', `${path}: the file is empty`, path) };
  try {
    return { ok: true, path, document: JSON.parse(body) as unknown };
  } catch (err) {
    const problem = locateJsonSyntaxError(body);
    const where = problem ? ` at line ${problem.line}, column ${problem.column}` : '';
    const what = problem?.message ?? 'not valid JSON';
    const error = new ConfigFileError(
      'CONFIG_FILE_INVALID_JSON',
      `${path}: invalid JSON${where}: ${what}`,
      path,
      problem?.line,
      problem?.column,
      { cause: err },
    );
    return { ok: false, path, error };
  }
}

/** Reads and parses a configuration file once. */
export async function readConfigFile(path: string): Promise<ConfigFileResult> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    return { ok: false, path: absolute, error: readError(absolute, err) };
  }
  return parseConfigText(text, absolute);
}

/** Options for watchConfigFile. */
export interface WatchConfigFileOptions {
  /** Quiet time after the last change event before the file is read again (editors write in bursts). */
  readonly debounceMs?: number;
  /** A stat check on this period as well, for file systems where change events do not arrive; 0 disables. */
  readonly pollIntervalMs?: number;
}

/** A running watch; close it to release the file system watcher and timers. */
export interface ConfigFileWatch {
  /** Absolute path being watched. */
  readonly path: string;
  /** Reads the file again now and reports it even if it looks unchanged (e.g. on SIGHUP). */
  reload(): void;
  close(): void;
}

/** Defaults for WatchConfigFileOptions. */
export const DEFAULT_CONFIG_DEBOUNCE_MS = 150;
/** Default stat-poll period of watchConfigFile. */
export const DEFAULT_CONFIG_POLL_INTERVAL_MS = 2000;

/**
 * Watches a JSON configuration file and calls `onResult` with the first reading at once, then after every
 * change (debounced). The directory is watched rather than the file, so editors and tools that replace the
 * file by rename (vim, atomic writers, Kubernetes-style symlink swaps) keep being followed. A reading is
 * reported when the file's identity, size or times changed (so `touch` re-applies) or when it appears or
 * disappears; results arrive one at a time, in order.
 */
export function watchConfigFile(
  path: string,
  onResult: (result: ConfigFileResult) => void,
  options: WatchConfigFileOptions = {},
): ConfigFileWatch {
  return new FileWatch(resolve(path), onResult, options);
}

class FileWatch implements ConfigFileWatch {
  private readonly debounceMs: number;
  private watcher: FSWatcher | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lastSignature: string | undefined;
  private checking = false;
  private checkAgain = false;
  private forceNext = true;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly onResult: (result: ConfigFileResult) => void,
    options: WatchConfigFileOptions,
  ) {
    this.debounceMs = options.debounceMs ?? DEFAULT_CONFIG_DEBOUNCE_MS;
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_CONFIG_POLL_INTERVAL_MS;
    this.startWatcher();
    if (pollIntervalMs > 0) this.pollTimer = setInterval(() => this.check(), pollIntervalMs);
    this.check();
  }

  reload(): void {
    this.forceNext = true;
    this.check();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.debounceTimer);
    clearInterval(this.pollTimer);
  }

  private startWatcher(): void {
    try {
      // Any event in the directory may concern the file (a rename onto it, a swapped symlink such as
      // Kubernetes' ..data): every event schedules a check, and the stat signature decides.
      this.watcher = watch(dirname(this.path), { persistent: true }, () => this.schedule());
      // The directory itself may vanish; the poll keeps going and a reload can re-arm the watcher.
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => this.check(), this.debounceMs);
  }

  private check(): void {
    if (this.closed) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    void this.checkOnce().finally(() => {
      this.checking = false;
      if (this.checkAgain && !this.closed) {
        this.checkAgain = false;
        this.check();
      }
    });
  }

  private async checkOnce(): Promise<void> {
    if (this.watcher === undefined) this.startWatcher();
    const signature = await fileSignature(this.path);
    if (this.closed) return;
    if (!this.forceNext && signature === this.lastSignature) return;
    this.forceNext = false;
    this.lastSignature = signature;
    const result = await readConfigFile(this.path);
    if (this.closed) return;
    this.onResult(result);
  }
}

// Identity + size + times: a rename-replace changes the inode, an in-place write the size or mtime, `touch` the times.
async function fileSignature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

function readError(path: string, err: unknown): ConfigFileError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new ConfigFileError('CONFIG_FILE_NOT_FOUND', `${path}: no such file`, path, undefined, undefined, {
      cause: err,
    });
  return new ConfigFileError(
    'CONFIG_FILE_UNREADABLE',
    `${path}: cannot be read (${code ?? 'unknown error'})`,
    path,
    undefined,
    undefined,
    { cause: err },
  );
}
