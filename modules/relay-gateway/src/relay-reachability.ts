// Whether the relay can be reached from this gateway, judged per relay namespace from the outcome of the relay
// handshakes the gateway's own clients cause. Pure bookkeeping with an injected clock: GatewayReadiness feeds it.

/** Defaults (see docs/relay-gateway.md, "What the load-balancer probe means"). */
export const RELAY_REACHABILITY_DEFAULTS = {
  /** A handshake with no answer from the relay after this long counts as a network-level failure. */
  stallMs: 5_000,
  /** Consecutive network-level failures (no answer in between) that make a namespace unreachable. */
  minFailures: 3,
  /** Evidence older than this is forgotten: a not-ready gateway gets no clients, so it must try again. */
  holdMs: 30_000,
} as const;

/** Options for RelayReachability (defaults in RELAY_REACHABILITY_DEFAULTS). */
export interface RelayReachabilityOptions {
  readonly stallMs?: number;
  readonly minFailures?: number;
  readonly holdMs?: number;
}

/** A namespace judged unreachable: how many failures in a row, the latest one's code and time. */
export interface UnreachableNamespace {
  readonly namespace: string;
  readonly failures: number;
  readonly code: string;
}

/** The judgement now, and when it may change by the clock alone (a stall ripening or evidence expiring). */
export interface ReachabilityVerdict {
  /** Set when every namespace with recent evidence is failing: the relay is unreachable from here. */
  readonly unreachable?: readonly UnreachableNamespace[];
  readonly nextChangeAtMs?: number;
}

interface Evidence {
  /** Network-level failures since the last answer. */
  failures: number;
  code: string;
  /** Time of the latest evidence of either kind. */
  atMs: number;
}

interface Pending {
  readonly namespace: string;
  readonly startedAtMs: number;
  /** Already counted as a stall (its later failure must not count twice). */
  stalled: boolean;
}

/**
 * Per relay namespace: the latest evidence (an answer of any kind — a tunnel, a 401, a 404 — or a run of
 * network-level failures: socket errors, 5xx, handshake timeouts, handshakes still unanswered after `stallMs`).
 * The relay is unreachable when at least one namespace has `minFailures` failures in a row and every namespace
 * with evidence younger than `holdMs` is in that state. Credentials and missing listeners never count: the relay
 * answered, and those are faults of one hybrid connection, reported per route.
 */
export class RelayReachability {
  private readonly stallMs: number;
  private readonly minFailures: number;
  private readonly holdMs: number;
  private readonly evidence = new Map<string, Evidence>();
  private readonly pending = new Map<string, Pending>();

  constructor(options: RelayReachabilityOptions = {}) {
    this.stallMs = options.stallMs ?? RELAY_REACHABILITY_DEFAULTS.stallMs;
    this.minFailures = options.minFailures ?? RELAY_REACHABILITY_DEFAULTS.minFailures;
    this.holdMs = options.holdMs ?? RELAY_REACHABILITY_DEFAULTS.holdMs;
  }

  /** A handshake to `namespace` began (keyed by connection id); it stalls if nothing ends it within `stallMs`. */
  started(id: string, namespace: string, nowMs: number): void {
    this.pending.set(id, { namespace, startedAtMs: nowMs, stalled: false });
  }

  /** The relay answered the handshake `id` (or any request to `namespace`). */
  answered(id: string | undefined, namespace: string, nowMs: number): void {
    if (id !== undefined) this.pending.delete(id);
    this.evidence.set(namespace, { failures: 0, code: '', atMs: nowMs });
  }

  /** The handshake `id` failed at the network level (timeout, socket error, 5xx). */
  failed(id: string | undefined, namespace: string, code: string, nowMs: number): void {
    const stalled = id !== undefined && this.pending.get(id)?.stalled === true;
    if (id !== undefined) this.pending.delete(id);
    // A stall already counted this handshake once.
    if (!stalled) this.countFailure(namespace, code, nowMs);
  }

  /** The handshake `id` ended without saying anything about the relay (client left, stopping). */
  forget(id: string): void {
    // A handshake that had already stalled stays counted: a client giving up on a silent relay is the usual end.
    this.pending.delete(id);
  }

  /** Forgets everything about `namespace` (a new endpoint or credential deserves a fresh start). */
  reset(namespace: string): void {
    this.evidence.delete(namespace);
  }

  /** Keeps only the namespaces in `inUse`. */
  retain(inUse: ReadonlySet<string>): void {
    for (const namespace of this.evidence.keys()) if (!inUse.has(namespace)) this.evidence.delete(namespace);
    for (const [id, p] of this.pending) if (!inUse.has(p.namespace)) this.pending.delete(id);
  }

  /** Counts ripe stalls, drops old evidence and judges. */
  verdict(nowMs: number): ReachabilityVerdict {
    let next = Number.POSITIVE_INFINITY;
    for (const p of this.pending.values()) {
      if (p.stalled) continue;
      const ripeAtMs = p.startedAtMs + this.stallMs;
      if (nowMs >= ripeAtMs) {
        p.stalled = true;
        this.countFailure(p.namespace, 'RELAY_STALLED', ripeAtMs);
      } else next = Math.min(next, ripeAtMs);
    }
    const failing: UnreachableNamespace[] = [];
    let answering = false;
    for (const [namespace, e] of this.evidence) {
      if (nowMs - e.atMs >= this.holdMs) {
        this.evidence.delete(namespace);
        continue;
      }
      next = Math.min(next, e.atMs + this.holdMs);
      if (e.failures >= this.minFailures) failing.push({ namespace, failures: e.failures, code: e.code });
      else answering ||= e.failures === 0;
      // A namespace with a few failures and no answer yet is undecided: it neither fails nor clears the verdict.
    }
    const unreachable = failing.length > 0 && !answering;
    return {
      ...(unreachable && { unreachable: failing.sort((a, b) => a.namespace.localeCompare(b.namespace)) }),
      ...(Number.isFinite(next) && { nextChangeAtMs: next }),
    };
  }

  private countFailure(namespace: string, code: string, atMs: number): void {
    const e = this.evidence.get(namespace);
    if (e && e.failures > 0) {
      e.failures += 1;
      e.code = code;
      e.atMs = Math.max(e.atMs, atMs);
    } else this.evidence.set(namespace, { failures: 1, code, atMs });
  }
}
