// Every fault case in the order `npm run chaos` runs them: the original set (cases.ts), then the newer cases kept
// in files of their own (tokens, frames, warm connections, IoT Hub outage).
import { CASES, type ChaosCase } from './cases';
import { oversizedFrames } from './cases-frames';
import { hubOutage } from './cases-hub';
import { tokenExpiry, tokenRenewal } from './cases-tokens';
import { relayRestartWarm, slowReaderWarm } from './cases-warm';

/** Every case, most valuable first; `ci` marks the subset npm test runs. */
export const ALL_CASES: readonly ChaosCase[] = [
  ...CASES,
  oversizedFrames,
  relayRestartWarm,
  slowReaderWarm,
  tokenRenewal,
  tokenExpiry,
  hubOutage,
];
