import { generateSymmetricKey } from './sas';

/** Permissions of an IoT Hub shared access policy. */
export type HubRight = 'RegistryRead' | 'RegistryWrite' | 'ServiceConnect' | 'DeviceConnect';

/** A hub-level shared access policy (what `skn` in a token names). */
export interface PolicyRecord {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
  rights: HubRight[];
}

/** The five policies every new IoT hub starts with, with fresh keys. */
export function defaultPolicies(): PolicyRecord[] {
  const make = (keyName: string, rights: HubRight[]): PolicyRecord => ({
    keyName,
    primaryKey: generateSymmetricKey(),
    secondaryKey: generateSymmetricKey(),
    rights,
  });
  return [
    make('iothubowner', ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']),
    make('service', ['ServiceConnect']),
    make('device', ['DeviceConnect']),
    make('registryRead', ['RegistryRead']),
    make('registryReadWrite', ['RegistryRead', 'RegistryWrite']),
  ];
}
