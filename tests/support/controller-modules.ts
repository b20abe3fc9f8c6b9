// The modules of a controller world, each running from its own module twin over MQTT to the sandbox IoT Hub (the
// unmodified device SDK), and the loopback clients the controller tests send through them.
import { once } from 'node:events';
import * as net from 'node:net';
import type pino from 'pino';
import { moduleClientFromEnvironment } from '../../modules/common/src/twin/module-client';
import { startForwarderFromTwin, type ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import { startGatewayFromTwin, type GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import type { ControllerWorld } from './controller-world';

/** How often a module writes its reported properties: at once after a change, no periodic refresh by default. */
export interface ReportedTiming {
  readonly debounceMs: number;
  readonly refreshIntervalMs: number;
}

/** Twin options of one module of `world`: fast reconnects, its own identity, no periodic stats. */
export function moduleTwinOptions(
  world: ControllerWorld,
  deviceId: string,
  moduleId: string,
  reported: ReportedTiming = { debounceMs: 50, refreshIntervalMs: 0 },
) {
  return {
    connection: {
      createClient: () => moduleClientFromEnvironment(world.moduleEnvironment(deviceId, moduleId)),
      backoff: { initialDelayMs: 100, maxDelayMs: 400, multiplier: 2, jitterRatio: 0 },
      stableSessionMs: 1_000,
      setupTimeoutMs: 5_000,
    },
    reported,
    stats: { intervalMs: 0 },
    identity: { deviceId, moduleId },
  };
}

/** A location's relay-forwarder running from its twin, trusting the world's relay. */
export function startTwinForwarder(
  world: ControllerWorld,
  deviceId: string,
  log: pino.Logger,
  reported?: ReportedTiming,
): ForwarderTwinApp {
  return startForwarderFromTwin({
    log,
    tls: { ca: world.relay.caPem },
    ...moduleTwinOptions(world, deviceId, 'relay-forwarder', reported),
  });
}

/** A relay-gateway module instance (`moduleId`) running from its twin, trusting the world's relay. */
export function startTwinGateway(
  world: ControllerWorld,
  deviceId: string,
  log: pino.Logger,
  options: { readonly moduleId?: string; readonly reported?: ReportedTiming } = {},
): Promise<GatewayTwinApp> {
  return startGatewayFromTwin({
    logger: log,
    tls: { ca: world.relay.caPem },
    ...moduleTwinOptions(world, deviceId, options.moduleId ?? 'relay-gateway', options.reported),
  });
}

/**
 * Connects to a loopback port, retrying until something listens (the gateway binds a route once its twin is
 * applied). Later socket errors are left to the caller's reads: a broken tunnel shows as a missing echo.
 */
export async function connectWhenListening(port: number, timeoutMs = 10_000): Promise<net.Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    try {
      await once(socket, 'connect');
      return socket;
    } catch (err) {
      socket.destroy();
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Writes `text` and resolves with as many bytes echoed back; rejects if the socket closes first or on timeout. */
export async function roundTrip(socket: net.Socket, text: string, timeoutMs = 10_000): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo of "${text}"`)), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed before the echo of "${text}"`));
    });
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= Buffer.byteLength(text)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    };
    socket.on('data', onData);
  });
  socket.write(text);
  return done;
}
