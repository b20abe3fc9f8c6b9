import { pageOf } from '../../../../sandbox/src/arm/paging';
import { authorizationRuleId, namespaceId, parseArmPath } from '../../../../sandbox/src/arm/paths';

const ns = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Relay/namespaces/ns1';

describe('ARM path parsing', () => {
  it.each([
    ['/subscriptions/s1/providers/Microsoft.Relay/namespaces', { kind: 'namespaces' }],
    [
      '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Relay/namespaces',
      { kind: 'namespaces', resourceGroup: 'rg' },
    ],
    [ns, { kind: 'namespace', namespace: 'ns1' }],
    [`${ns}/authorizationRules`, { kind: 'authorizationRules', namespace: 'ns1' }],
    [`${ns}/authorizationRules/root`, { kind: 'authorizationRule', authorizationRule: 'root' }],
    [`${ns}/authorizationRules/root/listKeys`, { kind: 'listKeys', authorizationRule: 'root' }],
    [`${ns}/hybridConnections`, { kind: 'hybridConnections' }],
    [`${ns}/hybridConnections/hc%201`, { kind: 'hybridConnection', hybridConnection: 'hc 1' }],
    [`${ns}/hybridConnections/hc/authorizationRules`, { kind: 'authorizationRules', hybridConnection: 'hc' }],
    [
      `${ns}/hybridConnections/hc/authorizationRules/r/regenerateKeys`,
      { kind: 'regenerateKeys', hybridConnection: 'hc', authorizationRule: 'r' },
    ],
    [
      '/SUBSCRIPTIONS/s1/resourcegroups/rg/PROVIDERS/microsoft.relay/NAMESPACES/ns1/HYBRIDCONNECTIONS/hc',
      { kind: 'hybridConnection', hybridConnection: 'hc' },
    ],
  ])('%s', (path, expected) => {
    expect(parseArmPath(path)).toMatchObject({ subscriptionId: 's1', relayProvider: true, ...expected });
  });

  it('keeps what it could make out of unknown shapes, so 404s come in ARM order', () => {
    expect(parseArmPath('/providers/Microsoft.Relay')).toBeUndefined();
    expect(parseArmPath('/subscriptions/s1/resourceGroups/rg')).toEqual({
      subscriptionId: 's1',
      resourceGroup: 'rg',
      relayProvider: false,
    });
    expect(parseArmPath(`${ns}/wcfRelays/x`)).toEqual({
      subscriptionId: 's1',
      resourceGroup: 'rg',
      relayProvider: true,
    });
    expect(parseArmPath(`${ns}/hybridConnections/hc/authorizationRules/r/other`)?.kind).toBeUndefined();
    expect(parseArmPath('/subscriptions/s1/providers/Microsoft.Relay/namespaces/ns1')?.kind).toBeUndefined();
    expect(parseArmPath('/subscriptions/%E0%A4%A/x')).toBeUndefined();
  });

  it('builds resource ids', () => {
    expect(namespaceId('s1', 'rg', 'ns1')).toBe(ns);
    expect(authorizationRuleId(ns, undefined, 'r')).toBe(`${ns}/authorizationRules/r`);
    expect(authorizationRuleId(ns, 'hc', 'r')).toBe(`${ns}/hybridConnections/hc/authorizationRules/r`);
  });
});

describe('ARM paging', () => {
  const link = (offset: number) => `next?${offset}`;
  it('cuts pages and links the next one until the end', () => {
    expect(pageOf([1, 2, 3, 4, 5], null, 2, link)).toEqual({ value: [1, 2], nextLink: 'next?2' });
    expect(pageOf([1, 2, 3, 4, 5], '4', 2, link)).toEqual({ value: [5] });
    expect(pageOf([], null, 2, link)).toEqual({ value: [] });
  });
  it('refuses a malformed skip token with 400', () => {
    expect(() => pageOf([1], 'x', 2, link)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => pageOf([1], '-1', 2, link)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
