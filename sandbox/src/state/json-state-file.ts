import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What a state file reports through: a corrupt file moved aside (warn) and a failed save (error). */
export interface StateFileLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * One JSON document on disk, written atomically (temp file, fsync, rename) and coalescing bursts of changes
 * into one write at a time, so a crash never leaves a half-written file. A file that cannot be read back is
 * moved aside and reported, and the caller starts empty. The sandbox hub and DPS each keep their state in one.
 */
export class JsonStateFile<T> {
  private dirty = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => T,
    private readonly isValid: (doc: unknown) => doc is T,
    private readonly log: StateFileLogger,
  ) {}

  /** Reads the saved document; undefined when there is none (or it was unreadable and moved aside). */
  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const doc = JSON.parse(text) as unknown;
      if (!this.isValid(doc)) throw new Error('unknown schema');
      return doc;
    } catch (err) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      await rename(this.path, aside);
      this.log.warn(
        { file: aside, err: (err as Error).message },
        'state file unreadable; moved aside, starting empty',
      );
      return undefined;
    }
  }

  /** Notes a change; a write follows, coalesced with other changes. */
  markDirty(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves once every change noted so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.write(JSON.stringify(this.snapshot(), null, 1));
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'saving state failed');
    } finally {
      this.writing = undefined;
    }
  }

  private async write(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
  }
}
