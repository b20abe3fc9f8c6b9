import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../../../common/src/log';
import { TunnelCloseCode } from '../../../common/src/tunnel/close-codes';
import { DatagramChannel } from '../../../common/src/tunnel/datagram-channel';
import type { ListenerTunnelRequest } from '../../../common/src/tunnel/listener-tunnel';
import type { ServiceConfig, UdpServiceSettings } from '../config/types';
import { DatagramCounters, type ServiceCounters, type ServiceRefusalReason } from './stats';
import type { TunnelSessionHost } from './session-host';
import type { SessionTunnel } from './session-tunnel';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA', 'EAI_FAIL']);

/**
 * Serves one UDP flow (a relay connection in datagram mode): a UDP socket of its own, connected to the target,
 * so the kernel delivers only the target's replies and they go back through this flow's tunnel to the right
 * client. Datagrams above the service's bound are dropped and counted both ways; the flow ends when the sender
 * closes, the flow is idle for `flowIdleTimeoutMs`, or it is drained.
 */
export async function serveDatagrams(
  tunnelRequest: ListenerTunnelRequest,
  service: ServiceConfig,
  settings: UdpServiceSettings,
  tunnel: SessionTunnel,
  counters: ServiceCounters,
  host: TunnelSessionHost,
  log: Logger,
  refuse: (reason: ServiceRefusalReason, closeCode: number, text: string) => void,
): Promise<void> {
  if (service.target.kind !== 'tcp') throw new Error('udp service without host:port target');
  const datagrams = (counters.datagrams ??= new DatagramCounters());
  let socket: dgram.Socket;
  try {
    socket = await connectUdp(service.target.host, service.target.port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const dns = DNS_CODES.has(code);
    counters.refused[dns ? 'dns' : 'target-error'] += 1;
    log.warn({ portName: service.name, code, err: String(err) }, 'udp target socket failed');
    refuse(
      dns ? 'dns' : 'target-error',
      dns ? TunnelCloseCode.TARGET_UNRESOLVED : TunnelCloseCode.TARGET_ERROR,
      dns ? 'target name not resolved' : 'target connect failed',
    );
    return;
  }

  let duplex;
  try {
    duplex = tunnelRequest.confirm();
  } catch (err) {
    socket.close();
    log.info({ portName: service.name, err: String(err) }, 'sender left during the flow set-up');
    return;
  }
  counters.accepted += 1;
  let lastActivityMs = Date.now();
  const channel = new DatagramChannel(duplex, {
    maxDatagramBytes: settings.maxDatagramBytes,
    batch: tunnelRequest.datagramBatch,
    onDatagram: (payload) => {
      lastActivityMs = Date.now();
      datagrams.toTarget += 1;
      socket.send(payload, (err) => {
        if (err) datagrams.dropped['target-error'] += 1;
      });
    },
    onOversized: (bytes) => {
      datagrams.dropped.oversized += 1;
      host.datagramLog?.record(
        'warn',
        `${service.name}:oversized-in`,
        { portName: service.name, bytes, maxDatagramBytes: settings.maxDatagramBytes },
        'datagram from the relay above maxDatagramBytes dropped',
      );
    },
  });
  socket.on('message', (payload) => {
    lastActivityMs = Date.now();
    const dropped = channel.send(payload);
    if (dropped === undefined) {
      datagrams.fromTarget += 1;
      return;
    }
    if (dropped === 'closed') return;
    datagrams.dropped[dropped] += 1;
    host.datagramLog?.record(
      'warn',
      `${service.name}:${dropped}-out`,
      { portName: service.name, bytes: payload.length, reason: dropped },
      'datagram from the target dropped',
    );
  });
  // ICMP port unreachable and the like arrive as socket errors on a connected UDP socket: count, keep the flow.
  socket.on('error', (err) => {
    datagrams.dropped['target-error'] += 1;
    log.debug({ portName: service.name, code: (err as NodeJS.ErrnoException).code }, 'udp target error');
  });

  const flow = {
    get relayToTcpBytes(): number {
      return channel.bytesReceived;
    },
    get tcpToRelayBytes(): number {
      return channel.bytesSent;
    },
    abort: (reason?: string) => channel.abort(reason ?? 'flow aborted'),
  };
  tunnel.attach(flow);
  // One timer per flow, re-armed for the time left rather than on every datagram (no per-datagram timer work).
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (delayMs: number): void => {
    idleTimer = setTimeout(() => {
      const idleMs = Date.now() - lastActivityMs;
      if (idleMs >= settings.flowIdleTimeoutMs) channel.close();
      else armIdle(settings.flowIdleTimeoutMs - idleMs);
    }, delayMs);
  };
  armIdle(settings.flowIdleTimeoutMs);

  const base = { hybridConnection: host.hybridConnection, service: service.name, tunnelId: tunnel.id };
  host.events.opened({ ...base, ...tunnel.origin, live: tunnel });
  log.debug({ portName: service.name }, 'udp flow open');
  const outcome = await channel.ended;
  clearTimeout(idleTimer);
  socket.close();
  counters.closed += 1;
  counters.bytesToTarget += channel.bytesReceived;
  counters.bytesFromTarget += channel.bytesSent;
  const durationMs = Date.now() - tunnel.startedAtMs;
  host.events.closed({
    ...base,
    ok: outcome.ok,
    ...(outcome.error && { errorCode: outcome.error.code }),
    bytesToTarget: channel.bytesReceived,
    bytesFromTarget: channel.bytesSent,
    durationMs,
  });
  const fields = {
    portName: service.name,
    ok: outcome.ok,
    code: outcome.error?.code,
    durationMs,
    datagramsToTarget: channel.datagramsReceived,
    datagramsFromTarget: channel.datagramsSent,
  };
  if (outcome.ok) log.debug(fields, 'udp flow closed');
  else log.info(fields, 'udp flow ended abnormally');
}

// The family follows the target's address; a host name is resolved once per flow (the OS resolver, like a dial).
async function connectUdp(host: string, port: number): Promise<dgram.Socket> {
  const address = isIP(host) !== 0 ? host : (await lookup(host)).address;
  const socket = dgram.createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}
