// The fleet status view: a small page served by the controller process (docs/status-view.md).
export { startStatusServer, type StatusServer, type StatusServerOptions } from './server';
export { IotHubFleetSource, type IotHubFleetSourceOptions } from './iothub-source';
export { FleetMonitor, type FleetMonitorOptions } from './monitor';
export { buildSnapshot } from './snapshot';
export { buildDocument } from './document';
export { CounterTracker } from './counters';
export { BucketHistory } from './history';
export { StatusError, type StatusErrorCode } from './errors';
export type { FleetReading, FleetSource, DeviceRow, ModuleRow } from './source';
export type * from './view-types';
