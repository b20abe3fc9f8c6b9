/** One relay-gateway module instance of a pool: a shard of its locations, with a twin of its own. */
export interface GatewayShard {
  /** `relay-gateway`, `relay-gateway-2`, … */
  readonly moduleId: string;
  /** What the instance's document holds besides managed entries (hand-made routes, settings), largest over devices. */
  readonly baseBytes: number;
  /** Every gateway device of the pool has this instance, so a new location placed here is served by all of them. */
  readonly acceptsNew: boolean;
}

/** A location that wants room in one of its pool's gateway twins. */
export interface ShardCandidate {
  readonly locationId: string;
  /** Upper bound of what its entries add to a gateway document (locationGatewayBytes). */
  readonly bytes: number;
  /** The instance whose twin already holds its routes or credential entry, when one does. */
  readonly currentModuleId?: string;
  /** It holds ports already (its status tag says so): placed before locations that hold nothing yet. */
  readonly holdsPorts?: boolean;
}

/** The input of placeOnShards for one pool. */
export interface ShardInput {
  /** The pool's instances in order; the first is `relay-gateway`. */
  readonly shards: readonly GatewayShard[];
  readonly candidates: readonly ShardCandidate[];
  /** Hard bound per twin: a location already placed stays while its twin's bound stays within this. */
  readonly maxBytes: number;
  /** A new location joins a twin only while that twin's bound stays within this (≤ maxBytes). */
  readonly targetBytes: number;
}

/** Where each location's routes live, and who found no room. */
export interface ShardPlacement {
  /** Module id by location id. */
  readonly placement: ReadonlyMap<string, string>;
  /** Locations no instance has room for (GATEWAY_TWIN_FULL). */
  readonly refused: ReadonlySet<string>;
  /** Upper bound of each instance's document after placement, by module id. */
  readonly boundBytes: ReadonlyMap<string, number>;
}

/**
 * Spreads a pool's locations over its relay-gateway instances, each instance's twin within IoT Hub's 32 KB.
 * Stable: a location stays on the instance whose twin already holds it (so no route moves from one process to
 * another and no live connection is cut) unless that twin overflowed; newcomers, by id, go to the instance
 * with the smallest bound that takes new locations and stays within `targetBytes` (those holding ports first). Pure and deterministic, so
 * every replica and every restart places alike.
 */
export function placeOnShards(input: ShardInput): ShardPlacement {
  const target = Math.min(input.targetBytes, input.maxBytes);
  const bound = new Map(input.shards.map((s) => [s.moduleId, s.baseBytes]));
  const placement = new Map<string, string>();
  const refused = new Set<string>();
  const byId = [...input.candidates].sort((a, b) => (a.locationId < b.locationId ? -1 : 1));
  const newcomers: ShardCandidate[] = [];
  for (const c of byId) {
    const used = c.currentModuleId === undefined ? undefined : bound.get(c.currentModuleId);
    if (used !== undefined && used + c.bytes <= input.maxBytes) {
      placement.set(c.locationId, c.currentModuleId!);
      bound.set(c.currentModuleId!, used + c.bytes);
    } else {
      newcomers.push(c);
    }
  }
  // A location that holds ports but sits in no twin (a twin lost or reset) goes before true newcomers, so a
  // newcomer can never push out a location that clients already know.
  newcomers.sort((a, b) => Number(b.holdsPorts === true) - Number(a.holdsPorts === true));
  for (const c of newcomers) {
    let best: string | undefined;
    for (const s of input.shards) {
      const used = bound.get(s.moduleId)!;
      if (!s.acceptsNew || used + c.bytes > target) continue;
      if (best === undefined || used < bound.get(best)!) best = s.moduleId;
    }
    if (best === undefined) {
      refused.add(c.locationId);
      continue;
    }
    placement.set(c.locationId, best);
    bound.set(best, bound.get(best)! + c.bytes);
  }
  return { placement, refused, boundBytes: bound };
}
