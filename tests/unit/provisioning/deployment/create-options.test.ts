import {
  applyCreateOptions,
  CREATE_OPTIONS_CHUNK_CHARS,
  createOptionsKey,
  joinCreateOptions,
  splitCreateOptions,
} from '../../../../provisioning/src/deployment/create-options';
import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';

/** A createOptions object whose compact JSON is exactly `length` characters long. */
function optionsOfLength(length: number): Record<string, unknown> {
  const empty = JSON.stringify({ Labels: { pad: '' } }).length;
  const options = { Labels: { pad: 'x'.repeat(length - empty) } };
  expect(JSON.stringify(options)).toHaveLength(length);
  return options;
}

describe('createOptions chunking', () => {
  it('keeps exactly 512 characters in one createOptions value', () => {
    const out = applyCreateOptions({ image: 'i', createOptions: optionsOfLength(512) }, '/s');
    expect(Object.keys(out)).toEqual(['image', 'createOptions']);
    expect(out['createOptions']).toHaveLength(512);
  });

  it('splits 513 characters into createOptions (512) and createOptions01 (1)', () => {
    const out = applyCreateOptions({ image: 'i', createOptions: optionsOfLength(513) }, '/s');
    expect(Object.keys(out)).toEqual(['image', 'createOptions', 'createOptions01']);
    expect(out['createOptions']).toHaveLength(512);
    expect(out['createOptions01']).toHaveLength(1);
  });

  it.each([22, 511, 512, 513, 1024, 1025, 4095, 4096])(
    'reassembles %i characters to the same JSON',
    (length) => {
      const options = optionsOfLength(length);
      const out = applyCreateOptions({ image: 'i', createOptions: options }, '/s');
      const chunkValues = Object.entries(out).filter(([k]) => k.startsWith('createOptions'));
      for (const [, v] of chunkValues)
        expect((v as string).length).toBeLessThanOrEqual(CREATE_OPTIONS_CHUNK_CHARS);
      expect(JSON.parse(joinCreateOptions(out) as string)).toEqual(options);
    },
  );

  it('reassembles in index order whatever the key order', () => {
    expect(
      joinCreateOptions({ createOptions02: 'c', createOptions: 'a', image: 'i', createOptions01: 'b' }),
    ).toBe('abc');
    expect(joinCreateOptions({ image: 'i' })).toBeUndefined();
  });

  it('names chunk keys with two digits', () => {
    expect([0, 1, 7, 10].map(createOptionsKey)).toEqual([
      'createOptions',
      'createOptions01',
      'createOptions07',
      'createOptions10',
    ]);
  });

  it('never cuts a surrogate pair', () => {
    const text = 'a'.repeat(511) + '😀' + 'b';
    const chunks = splitCreateOptions(text);
    expect(chunks.map((c) => c.length)).toEqual([511, 3]);
    expect(chunks.join('')).toBe(text);
  });

  it('keeps a createOptions string as written (re-chunked when long)', () => {
    expect(applyCreateOptions({ image: 'i', createOptions: '' }, '/s')).toEqual({
      image: 'i',
      createOptions: '',
    });
    const out = applyCreateOptions({ image: 'i', createOptions: JSON.stringify(optionsOfLength(600)) }, '/s');
    expect(out['createOptions01']).toHaveLength(88);
  });

  it('refuses more than eight chunks (4 KB) with the path', () => {
    try {
      applyCreateOptions({ image: 'i', createOptions: optionsOfLength(4097) }, '/m/settings');
      throw new Error('expected a throw');
    } catch (err) {
      expect(isDeploymentError(err, 'DEPLOYMENT_CREATE_OPTIONS_TOO_LONG')).toBe(true);
      expect((err as { problems: unknown }).problems).toEqual([
        {
          path: '/m/settings/createOptions',
          message: 'stringified length exceeds 4096 characters (8 chunks)',
        },
      ]);
    }
  });

  it('refuses templates that already hold chunks, and createOptions that are neither object nor string', () => {
    expect(() => applyCreateOptions({ image: 'i', createOptions: '{}', createOptions01: 'x' }, '/s')).toThrow(
      /write createOptions once/,
    );
    expect(() => applyCreateOptions({ image: 'i', createOptions: [1] }, '/s')).toThrow(/object or a string/);
  });
});
