import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import {
  createEntraCredential,
  sharedEntraCredential,
} from '../../../../../modules/common/src/hc/entra-credential';

describe('createEntraCredential', () => {
  it('uses managed identity by default (no developer sign-in), with the client id when given', () => {
    expect(createEntraCredential({}, {})).toBeInstanceOf(ManagedIdentityCredential);
    expect(createEntraCredential({ clientId: 'c' }, {})).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('uses workload identity when AZURE_FEDERATED_TOKEN_FILE is set', () => {
    const env = {
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/token',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
    };
    expect(createEntraCredential({}, env)).toBeInstanceOf(WorkloadIdentityCredential);
  });

  it('shares one credential per identity in the process', () => {
    expect(sharedEntraCredential({ clientId: 'a' })).toBe(sharedEntraCredential({ clientId: 'a' }));
    expect(sharedEntraCredential({ clientId: 'a' })).not.toBe(sharedEntraCredential({ clientId: 'b' }));
  });
});
