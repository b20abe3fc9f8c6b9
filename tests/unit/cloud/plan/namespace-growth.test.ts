import {
  resolveNamespaceGrowth,
  type NamespaceGrowthSettings,
} from '../../../../cloud/src/namespace-settings';
import { decideNamespaceGrowth } from '../../../../cloud/src/plan/namespace-growth';
import { resolveSettings } from '../../../../cloud/src/settings';

const growth: NamespaceGrowthSettings = resolveNamespaceGrowth(
  { prefix: 'contoso-relay', maxCount: 3, region: 'westeurope' },
  [],
)!;
const ok = (name: string) => ({ name, provisioningState: 'Succeeded' });

describe('decideNamespaceGrowth', () => {
  it('creates nothing while every location has a place, or without growth settings', () => {
    expect(decideNamespaceGrowth(0, [], growth)).toEqual({ kind: 'none' });
    expect(decideNamespaceGrowth(5, [], undefined)).toEqual({ kind: 'none' });
  });

  it('names the first namespace {prefix}-1 and then the lowest free ordinal', () => {
    expect(decideNamespaceGrowth(1, [], growth)).toMatchObject({ kind: 'ensure', name: 'contoso-relay-1' });
    expect(decideNamespaceGrowth(2, [ok('contoso-relay-1')], growth)).toMatchObject({
      kind: 'ensure',
      name: 'contoso-relay-2',
      why: '2 location(s) found no namespace with room',
    });
    // One deleted by hand leaves a gap that is filled first; a namespace of an earlier prefix still counts.
    expect(decideNamespaceGrowth(1, [ok('contoso-relay-2'), ok('old-prefix-1')], growth)).toMatchObject({
      kind: 'ensure',
      name: 'contoso-relay-1',
    });
  });

  it('waits for a creation in progress, or tries a failed one again, before starting another', () => {
    const inProgress = [ok('contoso-relay-1'), { name: 'contoso-relay-2', provisioningState: 'Created' }];
    expect(decideNamespaceGrowth(1, inProgress, growth)).toMatchObject({
      kind: 'ensure',
      name: 'contoso-relay-2',
      why: expect.stringMatching(/in progress \(Created\)/),
    });
    const failed = [{ name: 'contoso-relay-1', provisioningState: 'Failed' }];
    expect(decideNamespaceGrowth(1, failed, growth)).toMatchObject({
      kind: 'ensure',
      name: 'contoso-relay-1',
      why: expect.stringMatching(/failed; trying again/),
    });
  });

  it('creates no more than maxCount, saying why', () => {
    const three = [ok('contoso-relay-1'), ok('contoso-relay-2'), ok('contoso-relay-3')];
    expect(decideNamespaceGrowth(4, three, growth)).toEqual({
      kind: 'atMax',
      message: expect.stringMatching(/4 location\(s\) refused .* created 3 of at most 3 namespaces/),
    });
  });
});

describe('namespace growth settings', () => {
  it('default the limits to Azure quotas and the creation wait to 10 minutes', () => {
    expect(growth).toEqual({
      prefix: 'contoso-relay',
      maxCount: 3,
      region: 'westeurope',
      maxHybridConnections: 10_000,
      maxConnections: 5_000,
      createTimeoutMs: 600_000,
    });
  });

  it('refuse a bad prefix, count, region and limits, each by name', () => {
    const problems: string[] = [];
    resolveNamespaceGrowth(
      { prefix: 'Bad_', maxCount: 0, region: 'West Europe', maxConnections: 0, createTimeoutMs: 5 },
      problems,
    );
    expect(problems).toEqual([
      expect.stringMatching(/prefix must be 6-46 lower-case/),
      expect.stringMatching(/maxCount must be a whole number 1-999/),
      expect.stringMatching(/region "West Europe" is not an Azure region name/),
      expect.stringMatching(/maxConnections must be a whole number/),
      expect.stringMatching(/createTimeoutMs must be at least 1s/),
    ]);
  });

  it('need the namespaces list', () => {
    const pools = [{ name: 'default', firstPort: 20000, lastPort: 20009, allow: ['0.0.0.0/0'] }];
    expect(() =>
      resolveSettings({
        pools,
        namespaceGrowth: { prefix: 'contoso-relay', maxCount: 1, region: 'westeurope' },
      }),
    ).toThrow(/namespace growth needs the namespaces list/);
    expect(
      resolveSettings({
        pools,
        namespaces: [{ name: 'relay-east' }],
        namespaceGrowth: { prefix: 'contoso-relay', maxCount: 1, region: 'westeurope' },
      }).namespaceGrowth,
    ).toMatchObject({ prefix: 'contoso-relay', maxCount: 1 });
  });
});
