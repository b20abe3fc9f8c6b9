import {
  watchConfigFile,
  type ConfigFileResult,
  type ConfigFileWatch,
  type WatchConfigFileOptions,
} from '../../common/src/config/file-source';
import {
  ConfigStartupError,
  invalidConfigurationMessage,
  type ConfigStartupErrorCode,
} from '../../common/src/config/startup-error';
import { Forwarder, type ForwarderOptions } from './forwarder';

/** Options for startForwarderFromFile. */
export interface ForwarderFileAppOptions extends ForwarderOptions {
  /** The JSON configuration file, re-applied whenever it changes. */
  readonly configPath: string;
  readonly watch?: WatchConfigFileOptions;
}

/** A forwarder driven by a configuration file. */
export interface ForwarderFileApp {
  readonly forwarder: Forwarder;
  /** Reads the file again now (SIGHUP). */
  reload(): void;
  /** Stops watching, then stops the forwarder (bounded drain). */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/** Stable codes of StartupError. */
export type StartupErrorCode = ConfigStartupErrorCode;

/** The first configuration could not be used: nothing was started. */
export class StartupError extends ConfigStartupError {
  override readonly name = 'StartupError';
}

/**
 * Starts a forwarder from a configuration file and keeps applying the file when it changes. Rejects with a
 * StartupError (and leaves nothing running) when the first reading is unreadable or invalid; later bad
 * readings are logged and refused while the last good configuration keeps running.
 */
export function startForwarderFromFile(options: ForwarderFileAppOptions): Promise<ForwarderFileApp> {
  const log = options.log;
  const forwarder = new Forwarder(options);
  return new Promise<ForwarderFileApp>((resolve, reject) => {
    let started = false;
    let watch: ConfigFileWatch | undefined = undefined;
    const app: ForwarderFileApp = {
      forwarder,
      reload: () => watch?.reload(),
      stop: async (drainTimeoutMs?: number) => {
        watch?.close();
        await forwarder.stop(drainTimeoutMs);
      },
    };
    const onResult = (result: ConfigFileResult): void => {
      if (!started) {
        const error = firstReadingError(result, forwarder);
        if (error) {
          // Nothing was started (the forwarder never had a configuration): only the watch needs closing.
          watch?.close();
          reject(error);
          return;
        }
        started = true;
        resolve(app);
        return;
      }
      if (!result.ok) {
        log.error(
          { code: result.error.code, err: result.error.message },
          'configuration file unusable; keeping the running configuration',
        );
        // Counted like an invalid document (the gateway does the same): every unusable reading is one refusal.
        forwarder.refuseDocument([{ path: '', message: result.error.message }]);
        return;
      }
      forwarder.applyDocument(result.document);
    };
    watch = watchConfigFile(options.configPath, onResult, options.watch);
  });
}

function firstReadingError(result: ConfigFileResult, forwarder: Forwarder): StartupError | undefined {
  if (!result.ok) return new StartupError('CONFIG_FILE', result.error.message);
  const applied = forwarder.applyDocument(result.document);
  if (applied.ok) return undefined;
  return new StartupError(
    'CONFIG_INVALID',
    invalidConfigurationMessage(result.path, applied.problems.length),
    applied.problems,
  );
}
