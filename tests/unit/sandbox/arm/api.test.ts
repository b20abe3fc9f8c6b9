import { RelayArmApi, type ArmRequest } from '../../../../sandbox/src/arm/api';
import { ArmError } from '../../../../sandbox/src/arm/errors';
import { NamespaceRegistry } from '../../../../sandbox/src/relay/namespace-registry';

const base = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Relay/namespaces/sandbox-ns';

function api(registry = new NamespaceRegistry()): RelayArmApi {
  return new RelayArmApi({
    registry,
    subscriptionId: 's1',
    resourceGroup: 'rg',
    namespace: {
      id: base,
      name: 'sandbox-ns',
      location: 'westeurope',
      relayHost: '127.0.0.1:9',
      createdAtMs: 0,
      tags: {},
    },
    listenerCount: () => 0,
    baseUrl: () => 'https://127.0.0.1:1',
    pageSize: 10,
  });
}

function req(
  method: string,
  path: string,
  body?: unknown,
  version: string | null = '2017-04-01',
): ArmRequest {
  const query = new URLSearchParams(version === null ? {} : { 'api-version': version });
  return { method, pathname: path, query, body };
}

function refusal(fn: () => unknown): { status: number; code: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ArmError);
    return { status: (err as ArmError).status, code: (err as ArmError).code };
  }
  throw new Error('expected a refusal');
}

describe('RelayArmApi', () => {
  it('needs a supported api-version', () => {
    expect(refusal(() => api().handle(req('GET', base, undefined, null)))).toEqual({
      status: 400,
      code: 'MissingApiVersionParameter',
    });
    expect(refusal(() => api().handle(req('GET', base, undefined, '1999-01-01')))).toEqual({
      status: 400,
      code: 'NoRegisteredProviderFound',
    });
  });

  it('answers unknown resource types, paths and methods', () => {
    expect(refusal(() => api().handle(req('GET', `${base}/wcfRelays`)))).toEqual({
      status: 404,
      code: 'InvalidResourceType',
    });
    expect(refusal(() => api().handle(req('GET', '/health')))).toEqual({ status: 404, code: 'NotFound' });
    expect(refusal(() => api().handle(req('PATCH', `${base}/hybridConnections/x`)))).toEqual({
      status: 405,
      code: 'MethodNotAllowed',
    });
    expect(refusal(() => api().handle(req('DELETE', base)))).toEqual({
      status: 405,
      code: 'MethodNotAllowed',
    });
  });

  it('validates bodies', () => {
    expect(refusal(() => api().handle(req('PUT', `${base}/hybridConnections/x`, [1])))).toEqual({
      status: 400,
      code: 'InvalidRequestContent',
    });
    expect(
      refusal(() =>
        api().handle(
          req('PUT', `${base}/hybridConnections/x`, { properties: { requiresClientAuthorization: 'yes' } }),
        ),
      ),
    ).toEqual({ status: 400, code: 'InvalidRequestContent' });
    expect(refusal(() => api().handle(req('PUT', `${base}/hybridConnections/bad name`, {})))).toEqual({
      status: 400,
      code: 'BadRequest',
    });
    const registry = new NamespaceRegistry();
    registry.createAuthorizationRule(undefined, 'root', ['Manage', 'Listen', 'Send']);
    expect(
      refusal(() =>
        api(registry).handle(req('POST', `${base}/authorizationRules/root/regenerateKeys`, { keyType: 'x' })),
      ),
    ).toEqual({ status: 400, code: 'BadRequest' });
  });

  it('maps the rule quota to 409 QuotaExceeded', () => {
    const registry = new NamespaceRegistry();
    registry.createHybridConnection('hc');
    for (let i = 0; i < 12; i++) registry.createAuthorizationRule('hc', `r${i}`, ['Listen']);
    const put = req('PUT', `${base}/hybridConnections/hc/authorizationRules/r12`, {
      properties: { rights: ['Send'] },
    });
    expect(refusal(() => api(registry).handle(put))).toEqual({ status: 409, code: 'QuotaExceeded' });
  });

  it('creates with PUT (200) and deletes with 200 then 204', () => {
    const registry = new NamespaceRegistry();
    const a = api(registry);
    expect(a.handle(req('PUT', `${base}/hybridConnections/hc`, undefined)).status).toBe(200);
    expect(registry.getHybridConnection('hc')?.requiresClientAuthorization).toBe(true);
    expect(a.handle(req('DELETE', `${base}/hybridConnections/hc`)).status).toBe(200);
    expect(a.handle(req('DELETE', `${base}/hybridConnections/hc`)).status).toBe(204);
  });
});
