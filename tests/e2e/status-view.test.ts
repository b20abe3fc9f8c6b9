// The status view as a person sees it: a sandbox fleet (sandbox IoT Hub, relay and Relay ARM API; the fleet
// controller; relay-gateway and relay-forwarder in twin mode over MQTT), real traffic through an allocated public
// port, and the page open in headless Chromium. It must show the location, its services with their public ports,
// listeners online, non-zero connection and byte figures and errors, update by itself when a service (and so a
// route) is added, and never show a key or token. A screenshot goes to test-artifacts/status-view.png.
// It also answers "why": user errors by reason (fleet bars and per service), the startup failures of a location
// whose forwarder never came up kept apart (and that route's relay fault shown), the forwarder's IoT Hub
// connection, and the filter by text, state and pool; the breakdown's screenshot is status-view-errors.png.
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import type { JsonObject } from '../../cloud/src/model/json';
import type { ControllerHandle } from '../../cloud/src/run-controller';
import {
  createIotHubServiceClients,
  type IotHubServiceClients,
} from '../../cloud/src/azure/iothub-service-clients';
import { startStatusServer, type StatusServer } from '../../cloud/src/status';
import type { FleetDocument } from '../../cloud/src/status/view-types';
import type { ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import type { GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import { launchBrowser, type TestBrowser } from '../support/browser';
import {
  DEFAULT_POOL,
  freePortRange,
  startControllerWorld,
  type ControllerWorld,
} from '../support/controller-world';
import { startTwinForwarder, startTwinGateway } from '../support/controller-modules';
import { startEchoTarget } from '../support/e2e-targets';
import { patternBytes, waitFor, type TestTcpServer } from '../support/tunnel-harness';

const DEVICE = 'plant-7-edge';
const LOCATION = 'plant-7';
const HC = 'hrf-plant-7';
// A location whose forwarder never starts: every connection to it meets no-listener before any tunnel opened.
const IDLE_DEVICE = 'plant-9-edge';
const IDLE = 'plant-9';
const SCREENSHOT = join(__dirname, '../../test-artifacts/status-view.png');
const ERRORS_SCREENSHOT = join(__dirname, '../../test-artifacts/status-view-errors.png');
const OPERATOR_TOKEN = 'operator-token-for-the-e2e-test';

// Globals of the page, for the functions that run inside the browser (the project compiles without the DOM lib).
interface PageElement {
  readonly textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { readonly length: number };
};
declare const window: { marker?: number };

describe('status view in headless Chromium against the sandbox fleet', () => {
  let world: ControllerWorld;
  let echo: TestTcpServer;
  let downPort: number;
  let forwarder: ForwarderTwinApp | undefined;
  let gateway: GatewayTwinApp | undefined;
  let controller: ControllerHandle;
  let status: StatusServer | undefined;
  let browser: TestBrowser | undefined;
  let serviceClients: IotHubServiceClients | undefined;
  const open: net.Socket[] = [];

  // Counters reach IoT Hub with each refresh (production: every 60 s).
  const reported = { debounceMs: 50, refreshIntervalMs: 200 };

  const allocatedPort = async (service: string, deviceId = DEVICE): Promise<number> => {
    const tags = await world.tags(deviceId);
    const port = ((tags.relayStatus as JsonObject | undefined)?.ports as JsonObject | undefined)?.[service];
    if (typeof port !== 'number')
      throw new Error(`no port allocated for ${service}: ${JSON.stringify(tags)}`);
    return port;
  };

  beforeAll(async () => {
    // First, so a machine without Chromium fails at once with the install command.
    browser = await launchBrowser();
    world = await startControllerWorld();
    echo = await startEchoTarget();
    downPort = await freePortRange(1); // nothing listens there: the target refuses
    const firstPort = await freePortRange(4);
    const pool = {
      name: 'live',
      firstPort,
      lastPort: firstPort + 3,
      allow: ['127.0.0.0/8'],
      bindAddress: '127.0.0.1',
      publicHost: 'localhost',
    };
    await world.addGateway('gw-1', 'live');
    await world.addLocation(
      DEVICE,
      { echo: `127.0.0.1:${echo.port}`, down: `127.0.0.1:${downPort}` },
      { pool: 'live', location: LOCATION },
    );
    await world.addLocation(IDLE_DEVICE, { web: `127.0.0.1:${echo.port}` }, { pool: 'live', location: IDLE });
    const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
    forwarder = startTwinForwarder(world, DEVICE, log, reported);
    gateway = await startTwinGateway(world, 'gw-1', log, { reported });
    controller = world.startController({ pools: [DEFAULT_POOL, pool] });
    expect(await controller.reconcileNow()).toMatchObject({ outcome: 'converged' });
    serviceClients = createIotHubServiceClients(world.hub.ownerConnectionString, { ca: world.hub.caPem });
    status = await startStatusServer({
      registry: world.registry,
      operatorToken: OPERATOR_TOKEN,
      methods: serviceClients.client,
      port: 0,
      pollIntervalMs: 200,
      bucketMs: 2_000,
      historyMs: 40_000,
      logger: log,
    });
  }, 60_000);

  afterAll(async () => {
    for (const s of open) s.destroy();
    await browser?.close();
    await status?.close();
    serviceClients?.close();
    gateway?.hurry();
    await Promise.all([gateway?.stop(0), forwarder?.stop(0)]);
    await world?.close();
    await echo?.close();
  });

  /** Waits until the gateway listens on the location's route for `service` (the twin patch has been applied). */
  const routeListening = (service: string) =>
    waitFor(
      () => gateway!.gateway.state().routes[`${LOCATION}_${service}`]?.status === 'listening',
      `route ${service} listening`,
      10_000,
    );

  it('shows the location, its services with public ports, listeners online and the traffic figures', async () => {
    const echoPort = await allocatedPort('echo');
    const fwd = forwarder!;
    await waitFor(
      () => fwd.forwarder.state().hybridConnections[HC]?.onlineListeners === 2,
      'listeners',
      10_000,
    );
    await routeListening('echo');
    await routeListening('down');
    // Traffic in a few rounds (so the chart has a shape): echoed payloads, refused dials, one connection left open.
    let sent = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++)
        sent += await echoRoundTrip(echoPort, patternBytes(48 * 1024 * (round + 1), i + 1));
      await refusedConnection(await allocatedPort('down'));
      await new Promise((r) => setTimeout(r, 400));
    }
    open.push(await openEchoConnection(echoPort));

    const page = browser!.page;
    await page.goto(status!.url);
    const card = page.locator(`[data-location="${LOCATION}"]`);
    await card.locator('h3', { hasText: LOCATION }).waitFor({ state: 'visible', timeout: 10_000 });
    const echoRow = card.locator('tr[data-service="echo"]');
    expect(await echoRow.locator('.endpoint').textContent()).toBe(`localhost:${echoPort}`);
    expect(await card.locator('[data-listener-state]').textContent()).toBe('online');
    expect(await card.locator('.facts').textContent()).toContain(HC);
    expect(await echoRow.textContent()).toContain('listening 1/1');

    // The figures come through reported properties: wait (bounded) until the page shows them.
    await page.waitForFunction(
      ({ location }) => {
        const row = document.querySelector(`[data-location="${location}"] tr[data-service="echo"]`);
        const figure = (name: string) => row?.querySelector(`[data-figure="${name}"]`)?.textContent ?? '';
        return Number(figure('live')) >= 1 && Number(figure('connections').replace(/,/g, '')) >= 13;
      },
      { location: LOCATION },
      { timeout: 15_000 },
    );
    const bytesText = (await echoRow.locator('[data-figure="bytes"]').getAttribute('title')) ?? '';
    const [bytesIn, bytesOut] = [...bytesText.matchAll(/(\d+) bytes/g)].map((m) => Number(m[1]));
    expect(bytesIn).toBeGreaterThanOrEqual(sent);
    expect(bytesOut).toBeGreaterThanOrEqual(sent);
    await page.waitForFunction(
      ({ location }) =>
        Number(
          document.querySelector(
            `[data-location="${location}"] tr[data-service="down"] [data-figure="errors"]`,
          )?.textContent,
        ) >= 4,
      { location: LOCATION },
      { timeout: 15_000 },
    );
    expect(await page.locator('#live').getAttribute('data-state')).toBe('live');
    expect(await page.locator('[data-tile="Live connections"] .tile-value').textContent()).not.toBe('0');
  }, 60_000);

  it('updates by itself when a service is added and the controller adds its route', async () => {
    const page = browser!.page;
    await page.evaluate(() => (window.marker = 42));
    await world.patchTags(DEVICE, { relay: { services: { web: { target: `127.0.0.1:${echo.port}` } } } });
    expect(await controller.reconcileNow()).toMatchObject({ outcome: 'converged' });
    const webPort = await allocatedPort('web');
    const webRow = page.locator(`[data-location="${LOCATION}"] tr[data-service="web"]`);
    await webRow.locator('.endpoint', { hasText: `localhost:${webPort}` }).waitFor({ timeout: 10_000 });
    await webRow.locator('text=listening 1/1').waitFor({ timeout: 10_000 });
    // The same page (no reload): the server pushed the change.
    expect(await page.evaluate(() => window.marker)).toBe(42);
    await routeListening('web');
    expect(await echoRoundTrip(webPort, Buffer.from('through the new route'))).toBeGreaterThan(0);
  }, 30_000);

  it('breaks errors down by reason, keeps startup failures apart, and filters the locations', async () => {
    const page = browser!.page;
    const idlePort = await allocatedPort('web', IDLE_DEVICE);
    await waitFor(
      () => gateway!.gateway.state().routes[`${IDLE}_web`]?.status === 'listening',
      'idle route listening',
      10_000,
    );
    // Nobody listens for plant-9: the gateway closes each of these (the fleet's boot probe meets the same).
    for (let i = 0; i < 3; i++) await refusedConnection(idlePort);

    // Fleet bars: the refused target of "down" is a user error; no-listener before any tunnel is not.
    const refusedBar = page.locator('[data-breakdown="fleet"] [data-reason="target-refused"]');
    await refusedBar.waitFor({ timeout: 15_000 });
    expect(
      Number((await refusedBar.locator('.bar-count').textContent())?.replace(/,/g, '')),
    ).toBeGreaterThanOrEqual(4);
    await page.waitForFunction(
      () =>
        Number(document.querySelector('[data-startup-errors]')?.textContent?.match(/(\d+) startup/)?.[1]) >=
        3,
      undefined,
      { timeout: 15_000 },
    );
    expect(await page.locator('[data-breakdown="fleet"] [data-reason="no-listener"]').count()).toBe(0);
    // Per service: "down" carries its reason; plant-9's web has startup failures only, so no user error.
    const downRow = page.locator(`[data-breakdown-service="${LOCATION}/down"]`);
    expect(await downRow.textContent()).toContain('target-refused');
    const idleRow = page.locator(`[data-breakdown-service="${IDLE}/web"]`);
    expect(await idleRow.locator('td').nth(2).textContent()).toBe('0');
    expect(Number(await idleRow.locator('td').nth(4).textContent())).toBeGreaterThanOrEqual(3);
    const idleCard = page.locator(`[data-location="${IDLE}"]`);
    expect(await idleCard.locator('tr[data-service="web"] [data-figure="errors"]').textContent()).toBe('0');
    // The route's relay fault (no listener) and the forwarder's IoT Hub connection are on the cards.
    await idleCard.locator('[data-relay-fault="no-listener"]').waitFor({ timeout: 15_000 });
    await page
      .locator(`[data-location="${LOCATION}"] [data-forwarder-connection="connected"]`)
      .waitFor({ timeout: 15_000 });

    await mkdir(join(ERRORS_SCREENSHOT, '..'), { recursive: true });
    await page.locator('.errors-card').screenshot({ path: ERRORS_SCREENSHOT });

    // Filter: text, then state, then pool; the choice holds across live updates.
    const cards = () => page.locator('[data-location]').count();
    expect(await cards()).toBe(2);
    await page.fill('#filter-text', IDLE);
    await page.waitForFunction(() => document.querySelectorAll('[data-location]').length === 1);
    expect(await idleCard.count()).toBe(1);
    expect(await page.locator('#filter-count').textContent()).toBe('1 of 2 shown');
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-state', 'online');
    await page.waitForFunction(() => document.querySelectorAll('[data-location]').length === 1);
    expect(await page.locator(`[data-location="${LOCATION}"]`).count()).toBe(1);
    await status!.refresh(); // a pushed update re-renders with the same filter
    expect(await cards()).toBe(1);
    await page.selectOption('#filter-state', '');
    await page.selectOption('#filter-pool', 'live');
    await page.waitForFunction(() => document.querySelectorAll('[data-location]').length === 2);
    await page.fill('#filter-text', 'no-such-location');
    await page.locator('text=No location matches the filter.').waitFor();
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-pool', '');
  }, 60_000);

  it('drains and resumes a route from the page, behind the operator token', async () => {
    const page = browser!.page;
    const echoPort = await allocatedPort('echo');
    const route = `${LOCATION}_echo`;
    // Without the token (or with a wrong one) nothing is called.
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token']) {
      const response = await fetch(`${status!.url}api/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
        body: JSON.stringify({ action: 'drain', gateway: 'gw-1', route }),
      });
      expect(response.status).toBe(401);
    }
    expect(gateway!.gateway.state().routes[route]?.status).toBe('listening');
    // Off loopback only with a token.
    await expect(
      startStatusServer({ registry: world.registry, port: 0, bindAddress: '0.0.0.0' }),
    ).rejects.toMatchObject({ code: 'STATUS_BAD_OPTIONS' });

    const echoRow = page.locator(`[data-location="${LOCATION}"] tr[data-service="echo"]`);
    await page.fill('#operator-token', OPERATOR_TOKEN);
    await echoRow.locator('button[data-action="drain"]').click();
    await page.locator('#action-result[data-outcome="ok"]').waitFor({ timeout: 15_000 });
    // The route stops taking new connections; the live one (opened in the first test) still echoes.
    await waitFor(() => gateway!.gateway.state().routes[route]?.status === 'disabled', 'drained', 10_000);
    await expect(echoRoundTrip(echoPort, Buffer.from('refused while drained'))).rejects.toThrow();
    open[0]!.write('still here');
    await once(open[0]!, 'data');
    await echoRow.locator('button[data-action="resume"]').waitFor({ timeout: 15_000 });
    await echoRow.locator('button[data-action="resume"]').click();
    await page.locator('#action-result', { hasText: 'resume' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#action-result').getAttribute('data-outcome')).toBe('ok');
    await routeListening('echo');
    expect(await echoRoundTrip(echoPort, Buffer.from('back after resume'))).toBeGreaterThan(0);
    await echoRow.locator('button[data-action="drain"]').waitFor({ timeout: 15_000 });
  }, 60_000);

  it('never shows a key or token, and leaves a screenshot', async () => {
    const page = browser!.page;
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const secrets: string[] = [];
    for (const rule of ['listen', 'send']) {
      const keys = await world.relayApi.hybridConnections.listKeys(
        world.arm.resourceGroup,
        world.arm.namespaceName,
        HC,
        rule,
      );
      secrets.push(keys.primaryKey!, keys.secondaryKey!);
    }
    for (const [deviceId, moduleId] of [
      [DEVICE, 'relay-forwarder'],
      ['gw-1', 'relay-gateway'],
    ] as const) {
      const desired = JSON.stringify(await world.desired(deviceId, moduleId));
      for (const m of desired.matchAll(/sig=([^&"]+)/g)) secrets.push(m[1]!, decodeURIComponent(m[1]!));
    }
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    const doc = await (await fetch(`${status!.url}api/fleet`)).text();
    const html = await page.content();
    for (const text of [doc, html]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/SharedAccessSignature|SharedAccessKey=|sasToken/);
    }
    expect((JSON.parse(doc) as FleetDocument).snapshot?.locations.map((l) => l.id)).toContain(LOCATION);
    expect(browser!.errors).toEqual([]);
  }, 30_000);
});

/** Sends `payload` through `port`, half-closes and reads the echo; resolves with the bytes echoed. */
async function echoRoundTrip(port: number, payload: Buffer): Promise<number> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.end(payload);
  await once(socket, 'end');
  socket.destroy();
  const echoed = Buffer.concat(chunks);
  if (!echoed.equals(payload))
    throw new Error(`echo through ${port} differs (${echoed.length} of ${payload.length} bytes)`);
  return payload.length;
}

/** A client connection to a route whose on-prem target refuses: the gateway closes it. */
async function refusedConnection(port: number): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined); // the gateway resets it: that is the point
  socket.resume();
  await new Promise((resolve) => socket.once('close', resolve));
}

/** A connection through `port` that stays open (a live connection on the page). */
async function openEchoConnection(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  socket.write('hello');
  await once(socket, 'data');
  return socket;
}
