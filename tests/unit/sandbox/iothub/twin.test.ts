import { isIotHubError } from '../../../../sandbox/src/iothub/errors';
import {
  deviceTwinDocument,
  newTwin,
  patchDesired,
  patchReported,
  patchTags,
  replaceDesired,
  serviceProperties,
  twinEtag,
  TWIN_LIMITS,
} from '../../../../sandbox/src/iothub/twin';

const NOW = '2024-01-01T00:00:00.000Z';

describe('twin records', () => {
  it('grows $version per section and the twin version (and etag) on every change', () => {
    const twin = newTwin(NOW);
    const etag1 = twinEtag(twin);
    expect(Buffer.from(etag1, 'base64').readBigUInt64BE()).toBe(1n);
    const change = patchDesired(twin, { a: 1 }, NOW);
    expect(change).toEqual({ pushPatch: { a: 1, $version: 2 }, version: 2 });
    expect(patchReported(twin, { r: true }, NOW)).toBe(2);
    expect(patchTags(twin, { site: 'x' })).toBe(true);
    expect(patchTags(twin, { site: 'x' })).toBe(false);
    expect(twin.version).toBe(4);
    expect(twinEtag(twin)).not.toBe(etag1);
    expect(deviceTwinDocument(twin)).toEqual({
      desired: { a: 1, $version: 2 },
      reported: { r: true, $version: 2 },
    });
    expect(serviceProperties(twin).desired).toMatchObject({
      a: 1,
      $version: 2,
      $metadata: { $lastUpdated: NOW },
    });
  });

  it('ignores echoed $version/$metadata and pushes only the difference on replace', () => {
    const twin = newTwin(NOW);
    patchDesired(twin, { keep: 1, drop: 2, $version: 99, $metadata: {} }, NOW);
    expect(twin.desired.doc).toEqual({ keep: 1, drop: 2 });
    const change = replaceDesired(twin, { keep: 1, added: 3 }, NOW);
    expect(change?.pushPatch).toEqual({ drop: null, added: 3, $version: 3 });
    expect(replaceDesired(twin, { keep: 1, added: 3 }, NOW)).toBeUndefined();
  });

  it.each([
    [{ 'a.b': 1 }, 'ArgumentInvalid'],
    [{ $x: 1 }, 'ArgumentInvalid'],
    [{ 'has space': 1 }, 'ArgumentInvalid'],
    [{ big: 'x'.repeat(TWIN_LIMITS.reportedBytes) }, 'MessageTooLarge'],
  ])('refuses reported patch %j with %s and leaves the twin unchanged', (patch, code) => {
    const twin = newTwin(NOW);
    let caught: unknown;
    try {
      patchReported(twin, patch, NOW);
    } catch (err) {
      caught = err;
    }
    expect(isIotHubError(caught, code as 'ArgumentInvalid')).toBe(true);
    expect(twin.reported).toEqual({ doc: {}, version: 1, lastUpdated: NOW });
  });

  it('refuses nesting deeper than the limit', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < TWIN_LIMITS.maxDepth; i += 1) deep = { d: deep };
    expect(() => patchDesired(newTwin(NOW), deep as never, NOW)).toThrow(/deeper/);
  });
});
