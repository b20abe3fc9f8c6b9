import { parseSasToken } from '../../../modules/common/src/hc/sas';
import { isJsonObject } from './json';
import type { ObservedModule } from './observed';

/** One SAS token a module twin holds, by where it is written. */
export interface TokenExpiry {
  readonly deviceId: string;
  readonly moduleId: string;
  readonly hybridConnection: string;
  readonly expiresAtMs: number;
}

/** How close the fleet's tokens are to expiry after a reconcile. */
export interface TokenHealth {
  /** The earliest expiry of any token written; absent when there is none. */
  readonly earliestExpiresAtMs?: number;
  /** The earliest expiry per hybrid connection (over the forwarder's and every gateway's token). */
  readonly byHybridConnection: ReadonlyMap<string, number>;
  /** Tokens with less than the renewal margin left: ones the controller should already have replaced. */
  readonly withinMargin: readonly TokenExpiry[];
}

/**
 * Reads every `hybridConnections.{hc}.sasToken` in the given module twins (pure) and flags those with less than
 * `renewMarginMs` left at `nowMs`. Run on the twins as a reconcile left them, a flagged token is one that could not
 * be renewed (ARM failed, a twin write failed): the fuse is burning.
 */
export function tokenHealth(
  modules: readonly ObservedModule[],
  renewMarginMs: number,
  nowMs: number,
): TokenHealth {
  const byHybridConnection = new Map<string, number>();
  const withinMargin: TokenExpiry[] = [];
  let earliest: number | undefined;
  for (const m of modules) {
    const entries = m.desired.hybridConnections;
    if (!isJsonObject(entries)) continue;
    for (const [hybridConnection, entry] of Object.entries(entries)) {
      if (!isJsonObject(entry) || typeof entry.sasToken !== 'string') continue;
      let expiresAtMs: number;
      try {
        expiresAtMs = parseSasToken(entry.sasToken).expiresAtSec * 1000;
      } catch {
        continue;
      }
      earliest = earliest === undefined ? expiresAtMs : Math.min(earliest, expiresAtMs);
      const known = byHybridConnection.get(hybridConnection);
      byHybridConnection.set(
        hybridConnection,
        known === undefined ? expiresAtMs : Math.min(known, expiresAtMs),
      );
      if (expiresAtMs - nowMs < renewMarginMs)
        withinMargin.push({ deviceId: m.deviceId, moduleId: m.moduleId, hybridConnection, expiresAtMs });
    }
  }
  return {
    ...(earliest !== undefined && { earliestExpiresAtMs: earliest }),
    byHybridConnection,
    withinMargin,
  };
}
