import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationRecord } from './configuration';
import { IdentityRecord } from './identity';
import { HubLogger } from './logger';
import { PolicyRecord } from './policies';

/** Everything the sandbox hub keeps across restarts (telemetry is not kept). */
export interface HubStateDocument {
  schema: 1;
  hubName: string;
  /** Port last listened on, reused on restart so connection strings stay valid. */
  port?: number;
  policies: PolicyRecord[];
  devices: { device: IdentityRecord; modules: IdentityRecord[] }[];
  configurations: ConfigurationRecord[];
  sessions: Record<string, string[]>;
}

/** File name of the state document inside the state directory. */
export const STATE_FILE = 'iothub-state.json';

/**
 * Saves the hub state as one JSON file, atomically (temp file, fsync, rename), coalescing bursts of changes
 * into one write at a time, so a crash never leaves a half-written file.
 */
export class StateFile {
  private readonly path: string;
  private dirty = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly snapshot: () => HubStateDocument,
    private readonly log: HubLogger,
  ) {
    this.path = join(dir, STATE_FILE);
  }

  /** Reads the saved state; undefined when there is none. A corrupt file is moved aside and reported. */
  async load(): Promise<HubStateDocument | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const doc = JSON.parse(text) as HubStateDocument;
      if (doc.schema !== 1 || !Array.isArray(doc.devices)) throw new Error('unknown schema');
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

  /** Notes that state changed; a write follows (coalesced with other changes). */
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
    await mkdir(this.dir, { recursive: true });
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
