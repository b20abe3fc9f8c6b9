import type { JsonObject } from './json';
import { jsonEqual } from './json';
import { applyMergePatch, splitSystemKeys } from './merge-patch';

/** Why a desired document is offered to the module. */
export type DesiredCause = 'connect' | 'patch' | 'resync';

/** A complete desired document (system keys removed) and its `$version`. */
export interface DesiredDocument {
  readonly document: JsonObject;
  readonly version: number;
  readonly cause: DesiredCause;
}

/** What the tracker made of a full document or a patch. */
export type TrackResult =
  | { readonly kind: 'changed'; readonly desired: DesiredDocument }
  /** Nothing new: the same version and content as before, or a patch already contained in the document. */
  | { readonly kind: 'unchanged' }
  /** A patch that does not follow the known version: a full read is needed to be sure of the document. */
  | { readonly kind: 'gap'; readonly expected: number | undefined; readonly received: number | undefined };

/**
 * Keeps the current desired document from full reads and patches, by `$version` (pure, no I/O). A full read is
 * always the truth. A patch applies only on top of the version right before it: an older one is already
 * contained (it raced a full read), a newer one means patches were missed (while reconnecting), which asks the
 * caller for a full read instead of merging onto a stale base.
 */
export class DesiredTracker {
  private current: { document: JsonObject; version: number } | undefined;

  /** The document in force, if any. */
  get document(): JsonObject | undefined {
    return this.current?.document;
  }

  /** Its `$version`, if any. */
  get version(): number | undefined {
    return this.current?.version;
  }

  /** Takes a full desired section (as read with a twin GET). */
  full(section: unknown, cause: 'connect' | 'resync'): TrackResult {
    const { document, version } = splitSystemKeys(section);
    const v = version ?? 0;
    if (this.current && this.current.version === v && jsonEqual(this.current.document, document))
      return { kind: 'unchanged' };
    this.current = { document, version: v };
    return { kind: 'changed', desired: { document, version: v, cause } };
  }

  /** Takes a desired patch (as pushed by IoT Hub, with its `$version`). */
  patch(patch: unknown): TrackResult {
    const { document: changes, version } = splitSystemKeys(patch);
    const base = this.current;
    if (!base || version === undefined || version > base.version + 1)
      return { kind: 'gap', expected: base ? base.version + 1 : undefined, received: version };
    if (version <= base.version) return { kind: 'unchanged' };
    const document = applyMergePatch(base.document, changes);
    this.current = { document, version };
    return { kind: 'changed', desired: { document, version, cause: 'patch' } };
  }
}
