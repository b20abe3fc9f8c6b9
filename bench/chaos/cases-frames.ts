// Oversized frames: hostile senders holding the Send right push one WebSocket message far above
// MAX_RELAY_MESSAGE_BYTES at the forwarder, through the relay, while legitimate transfers run beside them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { endpointFromConnectionString } from '../../modules/common/src/hc/endpoint';
import { MAX_RELAY_MESSAGE_BYTES } from '../../modules/common/src/hc/open-socket';
import { connectHybridConnection } from '../../modules/common/src/hc/sender';
import { openSenderTunnel, TunnelCloseCode } from '../../modules/common/src/tunnel';
import { pushFrame } from '../../tests/support/raw-frames';
import { inFlight, type ChaosCase } from './cases';
import { settle, sleep } from './case-kit';
import { rssMiB, type ChaosWorld } from './world';

const MiB = 1024 * 1024;
/** Hostile senders at once. */
const HOSTILE = 40;
/**
 * The message each announces: 16× our bound, and the largest the sandbox relay passes on (its own bound is 4 MiB;
 * what Azure does with bigger ones is not documented), so it reaches the forwarder. Unbounded, the forwarder would
 * hold HOSTILE × 4 MiB = 160 MiB.
 */
const FRAME_BYTES = 4 * MiB;
/** Forwarder RSS may rise this much above its peak with legitimate traffic alone. */
const RSS_ALLOWANCE_MIB = 64;

/** What one hostile sender saw. */
interface HostileEnd {
  /** The close code its WebSocket got (-1: it could not open a tunnel). */
  readonly code: number;
  /** Payload bytes its socket took before the close. */
  readonly pushed: number;
}

/** One hostile sender: a proper tunnel to the sink service, then one oversized message; resolves at its close. */
async function hostile(world: ChaosWorld): Promise<HostileEnd> {
  const endpoint = endpointFromConnectionString(world.relayKeyConnectionString, {
    tls: { ca: readFileSync(join(world.dir, 'relay-ca.pem'), 'utf8') },
  });
  let ws: WebSocket;
  try {
    ws = await connectHybridConnection(endpoint, { timeoutMs: 30_000 });
    const { duplex } = await openSenderTunnel(ws, { portName: 'sink', replyTimeoutMs: 30_000 });
    // The refusal arrives as the duplex's error (TUNNEL_MESSAGE_TOO_BIG); the close code is read below.
    duplex.on('error', () => undefined);
  } catch {
    return { code: -1, pushed: 0 };
  }
  ws.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<number>((resolve) => {
    ws.once('close', (code: number) => resolve(code));
    // A sender never refused gives up after 30 s (code 0); the timer goes with the answer, so nothing lingers.
    timer = setTimeout(() => resolve(0), 30_000);
  });
  const pushed = await pushFrame(ws, FRAME_BYTES, true); // a client's frame: masked
  const code = await closed;
  clearTimeout(timer);
  ws.terminate();
  return { code, pushed };
}

/** Samples `pid`'s RSS every 100 ms until stop(); resolves with the peak in MiB. */
function rssPeak(pid: () => number | undefined): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid()))), 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid()));
    },
  };
}

/** The case: legitimate transfers alone (peak RSS), then the same beside HOSTILE oversized senders. */
export const oversizedFrames: ChaosCase = {
  name: 'oversized frames',
  what: `${HOSTILE} senders with the Send key each push one ${FRAME_BYTES / MiB} MiB message (bound ${MAX_RELAY_MESSAGE_BYTES / 1024} KiB) beside 6 verified transfers`,
  // In CI: the shared world, about 15 s, and its verdict rests on close codes, not timing.
  ci: true,
  async run(world) {
    const baseline = world.held();
    const quiet = rssPeak(() => world.forwarder?.pid);
    await inFlight(world, 3, 60_000);
    const quietPeak = quiet.stop();
    const loud = rssPeak(() => world.forwarder?.pid);
    const legit = inFlight(world, 3, 90_000);
    await sleep(200);
    const ends = await Promise.all(Array.from({ length: HOSTILE }, () => hostile(world)));
    const { totals: during, note } = await legit;
    const loudPeak = loud.stop();
    const { after, held } = await settle(world, baseline);
    const refused = ends.filter((e) => e.code === TunnelCloseCode.MESSAGE_TOO_BIG).length;
    const codes = [...new Set(ends.map((e) => e.code))].join(',');
    const pushedMiB = ends.reduce((sum, e) => sum + e.pushed, 0) / MiB;
    return {
      during,
      after,
      recoverMs: 0,
      held,
      note:
        `${refused}/${HOSTILE} hostile refused with 1009 (codes ${codes}, ${pushedMiB.toFixed(0)} MiB pushed); ` +
        `forwarder RSS peak ${loudPeak} MiB beside them, ${quietPeak} MiB without${note ? `; ${note}` : ''}`,
      // Every hostile sender refused, the legitimate transfers untouched, the forwarder's memory bounded.
      pass: refused === HOSTILE && during.lost === 0 && loudPeak <= quietPeak + RSS_ALLOWANCE_MIB,
    };
  },
};
