import fc from 'fast-check';
import { DesiredTracker } from '../../../../../modules/common/src/twin/desired-tracker';
import type { JsonObject } from '../../../../../modules/common/src/twin/json';
import {
  applyMergePatch,
  diffMergePatch,
  splitSystemKeys,
} from '../../../../../modules/common/src/twin/merge-patch';

// Fixed seed and run count: the same cases every run, fast enough for npm test.
const RUNS = { seed: 2024, numRuns: 300 };

/** JSON objects without nulls: a twin document (null only means "delete" in a patch). */
const documentArb: fc.Arbitrary<JsonObject> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 6 }),
    fc.integer(),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 3 }),
    tie('object'),
  ),
  object: fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
})).object as fc.Arbitrary<JsonObject>;

describe('twin merge patches (property)', () => {
  it('diff then apply rebuilds the target document', () => {
    fc.assert(
      fc.property(documentArb, documentArb, (before, after) => {
        const patch = diffMergePatch(before, after);
        expect(applyMergePatch(before, patch ?? {})).toEqual(after);
      }),
      RUNS,
    );
  });

  it('applying any JSON patch (nulls included) never throws and leaves both inputs unchanged', () => {
    fc.assert(
      fc.property(
        documentArb,
        fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
        (target, patch) => {
          const targetCopy = JSON.parse(JSON.stringify(target)) as unknown;
          const patchCopy = JSON.parse(JSON.stringify(patch)) as unknown;
          applyMergePatch(target, patch as JsonObject);
          expect(target).toEqual(targetCopy);
          expect(patch).toEqual(patchCopy);
        },
      ),
      RUNS,
    );
  });

  it('the desired tracker takes any section or patch IoT Hub could push: changed, unchanged or gap, never an exception', () => {
    const section = fc.oneof(
      fc.anything(),
      fc.record(
        { $version: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.anything()), config: fc.anything() },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(section, fc.array(section, { maxLength: 6 }), (first, patches) => {
        const tracker = new DesiredTracker();
        expect(['changed', 'unchanged']).toContain(tracker.full(first, 'connect').kind);
        for (const patch of patches) {
          const result = tracker.patch(patch);
          expect(['changed', 'unchanged', 'gap']).toContain(result.kind);
          for (const k of Object.keys(tracker.document ?? {})) expect(k.startsWith('$')).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('splitSystemKeys keeps no $ key and any numeric $version', () => {
    fc.assert(
      fc.property(fc.anything(), (section) => {
        const { document } = splitSystemKeys(section);
        for (const k of Object.keys(document)) expect(k.startsWith('$')).toBe(false);
      }),
      RUNS,
    );
  });
});
