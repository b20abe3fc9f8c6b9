import { ModuleMetadata } from '../../../../provisioning/src/deployment/module-metadata';
import { TEMPLATE_VARIABLES } from '../../../support/provisioning-fixtures';

/**
 * Variables every test template needs; fake values only: the provisioning tests' shared set (one list of the
 * templates' variables to keep up), with this folder's registry, a wider port range and one gateway module.
 */
export const VARIABLES: Readonly<Record<string, string>> = {
  ...TEMPLATE_VARIABLES,
  CONTAINER_REGISTRY_SERVER: 'fleetacr.azurecr.io',
  CONTAINER_REGISTRY_USERNAME: 'fleetacr',
  CONTAINER_REGISTRY_PASSWORD: 'not-a-real-password',
  GATEWAY_PORT_RANGE_END: '40999',
  GATEWAY_MODULES: '1',
};

/** Module metadata as parseModuleJson returns it for a module with the four IoT Edge platform keys. */
export function moduleMeta(folder: string): ModuleMetadata {
  return {
    folder,
    repository: `\${CONTAINER_REGISTRY_SERVER}/${folder}`,
    version: '0.1.0',
    platforms: {
      amd64: './Dockerfile.amd64',
      'amd64.debug': './Dockerfile.amd64.debug',
      arm64v8: './Dockerfile.arm64v8',
      'arm64v8.debug': './Dockerfile.arm64v8.debug',
    },
    contextPath: '../..',
    buildOptions: [],
  };
}

/** The modules map generateManifest takes, for the two fleet modules. */
export const MODULES: Readonly<Record<string, ModuleMetadata>> = {
  'relay-forwarder': moduleMeta('relay-forwarder'),
  'relay-gateway': moduleMeta('relay-gateway'),
};

/** A small valid template: placeholders, createOptions as objects, one route, one module twin. */
export function template(): Record<string, unknown> {
  return {
    '$schema-template': '4.0.0',
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          runtime: {
            type: 'docker',
            settings: {
              minDockerVersion: 'v1.25',
              registryCredentials: {
                fleet: {
                  username: '${CONTAINER_REGISTRY_USERNAME}',
                  password: '${CONTAINER_REGISTRY_PASSWORD}',
                  address: '${CONTAINER_REGISTRY_SERVER}',
                },
              },
            },
          },
          systemModules: {
            edgeAgent: {
              type: 'docker',
              settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.5', createOptions: {} },
            },
            edgeHub: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              settings: {
                image: 'mcr.microsoft.com/azureiotedge-hub:1.5',
                createOptions: { HostConfig: { PortBindings: { '8883/tcp': [{ HostPort: '8883' }] } } },
              },
            },
          },
          modules: {
            'relay-forwarder': {
              version: '1.0',
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              env: { LOG_LEVEL: { value: '${LOG_LEVEL}' } },
              settings: {
                image: '${MODULES.relay-forwarder}',
                createOptions: { HostConfig: { Init: true } },
              },
            },
          },
        },
      },
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.2',
          routes: {
            forwarderToUpstream: {
              route: 'FROM /messages/modules/relay-forwarder/outputs/* INTO $upstream',
              priority: 0,
              timeToLiveSecs: 86400,
            },
          },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
      'relay-forwarder': {
        'properties.desired': { schemaVersion: 1, logLevel: 'info', hybridConnections: {} },
      },
    },
  };
}

/** A valid generated manifest (what generateManifest makes of template() for amd64), as a literal. */
export function manifest(): Record<string, unknown> {
  return {
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          runtime: {
            type: 'docker',
            settings: {
              minDockerVersion: 'v1.25',
              registryCredentials: {
                fleet: {
                  username: 'fleetacr',
                  password: 'not-a-real-password',
                  address: 'fleetacr.azurecr.io',
                },
              },
            },
          },
          systemModules: {
            edgeAgent: {
              type: 'docker',
              settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.5', createOptions: '{}' },
            },
            edgeHub: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              settings: {
                image: 'mcr.microsoft.com/azureiotedge-hub:1.5',
                createOptions: '{"HostConfig":{"PortBindings":{"8883/tcp":[{"HostPort":"8883"}]}}}',
              },
            },
          },
          modules: {
            'relay-forwarder': {
              version: '1.0',
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              env: { LOG_LEVEL: { value: 'info' } },
              settings: {
                image: 'fleetacr.azurecr.io/relay-forwarder:0.1.0-amd64',
                createOptions: '{"HostConfig":{"Init":true}}',
              },
            },
          },
        },
      },
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.2',
          routes: {
            forwarderToUpstream: {
              route: 'FROM /messages/modules/relay-forwarder/outputs/* INTO $upstream',
              priority: 0,
              timeToLiveSecs: 86400,
            },
          },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
      'relay-forwarder': {
        'properties.desired': { schemaVersion: 1, logLevel: 'info', hybridConnections: {} },
      },
    },
  };
}

/**
 * Returns `doc` with the value at a JSON pointer replaced (or deleted when `value` is undefined);
 * intermediate objects must exist. Keeps each mistake fixture to one line.
 */
export function withChange<T extends Record<string, unknown>>(doc: T, pointer: string, value: unknown): T {
  const keys = pointer
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop() as string;
  let target = doc as Record<string, unknown>;
  for (const key of keys) target = target[key] as Record<string, unknown>;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return doc;
}

/** The value at a JSON pointer (test-only reader: the caller states the type it expects). */
export function at<T>(doc: unknown, pointer: string): T {
  const keys = pointer
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  return keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc) as T;
}
