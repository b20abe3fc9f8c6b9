/**
 * What the route count costs the gateway: for 100 / 1,000 / 2,000 / 3,000 routes, the longest event-loop stall
 * while that many routes are added to a running gateway, and the time `stop()` takes to close them all. The
 * gateway runs as in production (readiness and the twin module's state listener attached) with an in-process
 * echo tunnel instead of the relay, so only the gateway's own bookkeeping is measured.
 *
 *   npm run bench:gateway-routes [-- 100 1000]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { Gateway } from '../modules/relay-gateway/src/gateway';
import { readinessFor } from '../modules/relay-gateway/src/readiness';
import { GatewayTwinModule } from '../modules/relay-gateway/src/twin-module';

function document(count: number): object {
  const routes: Record<string, unknown> = {};
  for (let i = 0; i < count; i++)
    routes[`r${i}`] = {
      port: 0,
      bindAddress: '127.0.0.1',
      hybridConnection: 'hc',
      service: `s${i}`,
      allow: ['127.0.0.0/8'],
    };
  return {
    schemaVersion: 1,
    hybridConnections: {
      hc: {
        connectionString: 'Endpoint=sb://ns.example/;SharedAccessKeyName=s;SharedAccessKey=k;EntityPath=hc',
      },
    },
    routes,
  };
}

interface Figures {
  readonly routes: number;
  readonly addStallMs: number;
  readonly addMs: number;
  readonly stopMs: number;
  readonly stopStallMs: number;
}

/** Longest gap between 1 ms ticks, i.e. the longest a live tunnel's I/O would have waited (ms). */
function stallMeter(): { stop(): number } {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, performance.now() - last);
    },
  };
}

async function measure(count: number): Promise<Figures> {
  const gateway = new Gateway({
    opener: () => Promise.resolve({ duplex: new PassThrough(), halfClose: true }),
    logger: pino({ level: 'silent' }),
  });
  const readiness = readinessFor(gateway);
  const twin = new GatewayTwinModule(gateway);
  const stopWatching = twin.onStateChange(() => undefined);
  await gateway.applyDocument(document(1));

  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  let ticks = stallMeter();
  let started = performance.now();
  const applied = await gateway.applyDocument(document(count));
  const addMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  histogram.disable();
  const addStallMs = Math.max(histogram.max / 1e6, ticks.stop());
  if (!applied.ok || applied.refusedRoutes.length > 0)
    throw new Error(`routes did not all start: ${JSON.stringify(applied).slice(0, 500)}`);

  histogram.reset();
  histogram.enable();
  ticks = stallMeter();
  started = performance.now();
  await gateway.stop(0);
  const stopMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  histogram.disable();
  const stopStallMs = Math.max(histogram.max / 1e6, ticks.stop());
  stopWatching();
  readiness.close();
  return { routes: count, addStallMs, addMs, stopMs, stopStallMs };
}

async function main(): Promise<void> {
  const counts = process.argv.slice(2).map(Number);
  const sizes = counts.length > 0 ? counts : [100, 1_000, 2_000, 3_000];
  console.log('routes  add (ms)  max stall adding (ms)  stop (ms)  max stall stopping (ms)');
  for (const n of sizes) {
    const f = await measure(n);
    console.log(
      `${String(f.routes).padStart(6)}  ${f.addMs.toFixed(0).padStart(8)}  ${f.addStallMs.toFixed(0).padStart(21)}` +
        `  ${f.stopMs.toFixed(0).padStart(9)}  ${f.stopStallMs.toFixed(0).padStart(23)}`,
    );
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
