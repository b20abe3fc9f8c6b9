import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../../../common/src/log';
import type { RepeatLog } from '../../../common/src/repeat-log';
import { clientAddressHeaders, formatClientAddress } from '../../../common/src/tunnel/client-address';
import { DatagramChannel, type DatagramChannelEnd } from '../../../common/src/tunnel/datagram-channel';
import { PreambleMode } from '../../../common/src/tunnel/preamble';
import type { ConnectionBudget } from '../admission';
import type { GatewayHybridConnection, GatewayUdpRoute } from '../config/types';
import { classifyTunnelEnd, classifyTunnelFailure } from '../reasons';
import type { TunnelOpener } from '../tunnel-opener';
import { UdpRouteCounters, type UdpRouteCountersSnapshot, type UdpDropReason } from './udp-counters';
import { UdpFlow } from './udp-flow';

/** What a UDP route needs from the gateway. */
export interface UdpRouteContext {
  readonly opener: TunnelOpener;
  /** The gateway-wide bound (`limits.maxConnections`): each flow holds one relay connection. */
  readonly globalBudget: ConnectionBudget;
  readonly logger: Logger;
  /** Drops come in floods: one line per route and reason per interval. */
  readonly dropLog: RepeatLog;
  /** The hybrid connection in force now (a renewed credential reaches new flows). */
  hybridConnection(name: string): GatewayHybridConnection | undefined;
}

/** A UDP route's status: its socket bound, refused (the error says why), or disabled. */
export type UdpRouteStatus = 'starting' | 'listening' | 'refused' | 'disabled' | 'stopped';

/** What a UDP route reports. */
export interface UdpRouteState {
  readonly id: string;
  readonly status: UdpRouteStatus;
  /** The bound port (the configured one, or the OS's pick for port 0). */
  readonly port?: number;
  readonly bindAddress: string;
  readonly hybridConnection: string;
  readonly service: string;
  readonly error?: string;
  readonly counters: UdpRouteCountersSnapshot;
}

// Flow keys are what the client's datagrams carry; IPv4-mapped addresses stay as the socket reports them.
const flowKey = (address: string, port: number): string => formatClientAddress({ address, port });

/**
 * One public UDP port. Each client address:port is a flow with a relay connection of its own (azbridge's
 * datagram mode), opened on its first datagram and ended after `flowIdleTimeoutMs` without a datagram either
 * way. Datagrams from sources outside the allow-list, above `maxDatagramBytes`, or of a new flow beyond
 * `maxFlows` are dropped before any relay work, counted and logged (summarized when they flood).
 */
export class UdpRouteRuntime {
  private config: GatewayUdpRoute;
  private socket: dgram.Socket | undefined;
  private status: UdpRouteStatus = 'starting';
  private error: string | undefined;
  private boundPort: number | undefined;
  private readonly flows = new Map<string, UdpFlow>();
  private readonly ends = new Set<Promise<void>>();
  private readonly counters = new UdpRouteCounters();
  private readonly log: Logger;

  constructor(
    config: GatewayUdpRoute,
    private readonly context: UdpRouteContext,
  ) {
    this.config = config;
    this.log = context.logger.child({ udpRoute: config.id });
  }

  /** Binds the socket (or stays disabled); a bind failure leaves the route `refused` with the reason. */
  async start(): Promise<void> {
    if (!this.config.enabled) {
      this.status = 'disabled';
      return;
    }
    const socket = dgram.createSocket({ type: isIP(this.config.bindAddress) === 6 ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.config.port, this.config.bindAddress, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      this.status = 'refused';
      this.error = `cannot bind ${this.config.bindAddress}:${this.config.port}/udp: ${(err as Error).message}`;
      this.log.error({ err: this.error }, 'udp route refused');
      return;
    }
    this.socket = socket;
    this.boundPort = socket.address().port;
    this.status = 'listening';
    socket.on('message', (payload, rinfo) => this.onDatagram(payload, rinfo.address, rinfo.port));
    // Send errors (a client's network unreachable, …) can come once per datagram: summarized like drops.
    socket.on('error', (err) =>
      this.context.dropLog.record(
        'warn',
        `udp:${this.config.id}:socket-error`,
        { udpRoute: this.config.id, code: (err as NodeJS.ErrnoException).code, err: String(err) },
        'udp socket error',
      ),
    );
    this.log.info({ port: this.boundPort, bindAddress: this.config.bindAddress }, 'udp route listening');
  }

  /**
   * Applies new settings that keep the socket (limits, timeouts, size bound, allow-list): they apply to new flows
   * and datagrams; open flows from sources the new allow-list refuses are ended.
   */
  update(config: GatewayUdpRoute): void {
    this.config = config;
    for (const flow of this.flows.values())
      if (!config.allowList.allows(flow.address)) this.endFlow(flow, 'not-allowed');
  }

  /** Closes the socket and ends every flow (nothing to drain: a datagram in flight is as good as lost). */
  async close(): Promise<void> {
    this.status = 'stopped';
    this.socket?.close();
    this.socket = undefined;
    for (const flow of this.flows.values()) this.endFlow(flow, 'stopped');
    await Promise.all(this.ends);
  }

  /** Flows open or opening. */
  get activeFlows(): number {
    return this.flows.size;
  }

  /** Status and counters now. */
  state(): UdpRouteState {
    const { id, bindAddress, hybridConnection, service } = this.config;
    return {
      id,
      status: this.status,
      ...(this.boundPort !== undefined && { port: this.boundPort }),
      bindAddress,
      hybridConnection,
      service,
      ...(this.error !== undefined && { error: this.error }),
      counters: this.counters.snapshot(this.flows.size),
    };
  }

  private onDatagram(payload: Buffer, address: string, port: number): void {
    const config = this.config;
    if (!config.allowList.allows(address)) return this.drop('not-allowed', { client: address });
    if (payload.length > config.maxDatagramBytes)
      return this.drop('oversized', {
        client: flowKey(address, port),
        bytes: payload.length,
        maxDatagramBytes: config.maxDatagramBytes,
      });
    const key = flowKey(address, port);
    let flow = this.flows.get(key);
    if (!flow) {
      if (this.flows.size >= config.maxFlows)
        return this.drop('flow-limit', { client: key, maxFlows: config.maxFlows });
      if (!this.context.globalBudget.tryAcquire())
        return this.drop('global-limit', { client: key, limit: this.context.globalBudget.limit });
      flow = new UdpFlow(key, address, port, randomUUID());
      flow.release = once(() => this.context.globalBudget.release());
      this.flows.set(key, flow);
      this.openFlow(flow);
    }
    flow.lastActivityMs = Date.now();
    if (!flow.channel) {
      if (!flow.enqueue(payload)) this.drop('queue-full', { client: key });
      return;
    }
    this.sendToRelay(flow, flow.channel, payload);
  }

  private sendToRelay(flow: UdpFlow, channel: DatagramChannel, payload: Buffer): void {
    const dropped = channel.send(payload);
    if (dropped === undefined) {
      this.counters.datagramsFromClients += 1;
      this.counters.bytesFromClients += payload.length;
    } else if (dropped !== 'closed') {
      this.drop(dropped, { client: flow.key, bytes: payload.length });
    }
  }

  private openFlow(flow: UdpFlow): void {
    const config = this.config;
    const done = (async () => {
      const hc = this.context.hybridConnection(config.hybridConnection);
      let channel: DatagramChannel;
      try {
        if (!hc) throw new Error(`hybrid connection "${config.hybridConnection}" is not configured`);
        const opened = await this.context.opener({
          routeId: config.id,
          connectionId: flow.connectionId,
          hybridConnection: hc,
          service: config.service,
          timeoutMs: config.connectTimeoutMs,
          signal: flow.opening.signal,
          headers: clientAddressHeaders(flow.address, flow.port),
          mode: PreambleMode.DATAGRAM,
        });
        channel = new DatagramChannel(opened.duplex, {
          maxDatagramBytes: config.maxDatagramBytes,
          batch: opened.datagramBatch === true,
          onDatagram: (payload) => this.sendToClient(flow, payload),
          onOversized: (bytes) =>
            this.drop('oversized-from-relay', {
              client: flow.key,
              bytes,
              maxDatagramBytes: config.maxDatagramBytes,
            }),
        });
      } catch (err) {
        const reason = flow.closed ? 'stopped' : classifyTunnelFailure(err);
        this.counters.failed(reason);
        this.counters.drop('flow-failed', flow.drainQueue().length);
        this.context.dropLog.record(
          'warn',
          `udp:${config.id}:failed:${reason}`,
          { udpRoute: config.id, client: flow.key, reason, err: String(err) },
          'udp flow could not be opened',
        );
        this.forget(flow);
        return;
      }
      flow.channel = channel;
      this.counters.flowsOpened += 1;
      this.log.debug({ client: flow.key, connectionId: flow.connectionId }, 'udp flow open');
      if (flow.closed) channel.close();
      for (const payload of flow.drainQueue()) this.sendToRelay(flow, channel, payload);
      const idle = this.armIdle(flow, channel, config.flowIdleTimeoutMs);
      const end = await channel.ended;
      clearTimeout(idle.timer);
      this.counters.ended(flow.endReason ?? endReason(end));
      this.log.debug(
        { client: flow.key, connectionId: flow.connectionId, ok: end.ok, code: end.error?.code },
        'udp flow closed',
      );
      this.forget(flow);
    })();
    this.ends.add(done);
    void done.finally(() => this.ends.delete(done));
  }

  private sendToClient(flow: UdpFlow, payload: Buffer): void {
    flow.lastActivityMs = Date.now();
    if (!this.socket) return;
    this.counters.datagramsToClients += 1;
    this.counters.bytesToClients += payload.length;
    this.socket.send(payload, flow.port, flow.address);
  }

  // One timer per flow, re-armed for the time left rather than on every datagram.
  private armIdle(flow: UdpFlow, channel: DatagramChannel, timeoutMs: number): { timer?: NodeJS.Timeout } {
    const handle: { timer?: NodeJS.Timeout } = {};
    const arm = (delayMs: number): void => {
      handle.timer = setTimeout(() => {
        const idleMs = Date.now() - flow.lastActivityMs;
        if (idleMs < timeoutMs) return arm(timeoutMs - idleMs);
        flow.endReason ??= 'idle';
        channel.close();
      }, delayMs);
    };
    arm(timeoutMs);
    return handle;
  }

  private endFlow(flow: UdpFlow, reason: 'stopped' | 'not-allowed'): void {
    flow.endReason ??= reason;
    flow.closed = true;
    flow.opening.abort();
    flow.channel?.close();
  }

  // The flow's slot and key are free at once: the client's next datagram starts a new flow.
  private forget(flow: UdpFlow): void {
    flow.closed = true;
    flow.release();
    if (this.flows.get(flow.key) === flow) this.flows.delete(flow.key);
  }

  private drop(reason: UdpDropReason, fields: Record<string, unknown>): void {
    this.counters.drop(reason);
    this.context.dropLog.record(
      reason === 'not-allowed' ? 'info' : 'warn',
      `udp:${this.config.id}:${reason}`,
      { udpRoute: this.config.id, reason, ...fields },
      DROP_MESSAGES[reason],
    );
  }
}

const DROP_MESSAGES: Record<UdpDropReason, string> = {
  'not-allowed': 'datagram dropped: source not in the allow-list',
  'flow-limit': 'datagram dropped: new flow beyond maxFlows',
  'global-limit': 'datagram dropped: new flow beyond limits.maxConnections',
  oversized: 'datagram refused: larger than maxDatagramBytes',
  'oversized-from-relay': 'datagram from the relay dropped: larger than maxDatagramBytes',
  'queue-full': 'datagram dropped: flow still opening and its queue is full',
  backlog: 'datagram dropped: relay connection behind',
  'flow-failed': 'datagram dropped: its flow could not be opened',
};

function endReason(end: DatagramChannelEnd): 'closed' | ReturnType<typeof classifyTunnelEnd> {
  return end.ok ? 'closed' : classifyTunnelEnd(end.error);
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
