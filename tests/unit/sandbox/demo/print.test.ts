import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBanner, formatCheck, onPath, tryItLines } from '../../../../sandbox/src/demo/print';
import type { DemoRoute } from '../../../../sandbox/src/demo/world';

const web: DemoRoute = {
  id: 'site-a-web',
  location: 'site-a',
  service: 'web',
  kind: 'http',
  publicPort: 40001,
  targetPort: 50001,
};
const echo: DemoRoute = {
  ...web,
  id: 'site-a-echo',
  service: 'echo',
  kind: 'echo',
  publicPort: 40002,
  targetPort: 50002,
};

describe('demo printing', () => {
  it('prints a table of public ports with relative paths', () => {
    const text = formatBanner(
      {
        namespace: '127.0.0.1:9443',
        caFile: '/repo/.sandbox-state/pki/ca.pem',
        gatewayPid: 11,
        forwarderPid: 12,
        gatewayConfig: '/repo/.sandbox-state/demo/gateway.json',
        forwarderConfig: '/repo/.sandbox-state/demo/forwarder.json',
        logDir: '/repo/.sandbox-state/demo/logs',
        routes: [web, echo],
      },
      '/repo',
    );
    expect(text.split('\n').slice(2)).toEqual([
      '  sandbox relay    127.0.0.1:9443  (CA .sandbox-state/pki/ca.pem)',
      '  relay-gateway    pid 11  config .sandbox-state/demo/gateway.json',
      '  relay-forwarder  pid 12  config .sandbox-state/demo/forwarder.json',
      '  logs             .sandbox-state/demo/logs/',
      '',
      '  route        public address   hybrid connection / service  on-prem target',
      '  site-a-web   127.0.0.1:40001  site-a / web                 127.0.0.1:50001 (HTTP)',
      '  site-a-echo  127.0.0.1:40002  site-a / echo                127.0.0.1:50002 (TCP echo)',
    ]);
  });

  it('offers curl, and nc only where nc exists (a node one-liner otherwise)', () => {
    expect(tryItLines([web, echo], { hasNc: true })).toEqual([
      'curl http://127.0.0.1:40001/',
      "printf 'hello\\n' | nc -q1 127.0.0.1 40002",
    ]);
    expect(tryItLines([echo], { hasNc: false })).toEqual([
      `node -e "const s=require('net').connect(40002,'127.0.0.1',()=>s.end('hello\\n'));s.pipe(process.stdout)"`,
    ]);
  });

  it('summarises the self-check', () => {
    expect(
      formatCheck([
        { name: 'site-a-web', ok: true, detail: 'GET / → 200' },
        { name: 'relay-forwarder', ok: true, detail: 'GET /readyz → 200 ready' },
      ]),
    ).toBe(
      [
        'Self-check:',
        '  ok    site-a-web       GET / → 200',
        '  ok    relay-forwarder  GET /readyz → 200 ready',
        'Self-check passed: 2 of 2.',
      ].join('\n'),
    );
    expect(
      formatCheck([
        { name: 'site-a-web', ok: true, detail: 'fine' },
        { name: 'site-a-echo', ok: false, detail: 'connection reset' },
      ]),
    ).toMatch(/ {2}FAIL {2}site-a-echo {2}connection reset\nSelf-check FAILED: 1 of 2 did not answer/);
  });

  it('shows each module health endpoint when known', () => {
    const text = formatBanner({
      namespace: 'ns',
      caFile: '/ca.pem',
      gatewayPid: 1,
      forwarderPid: 2,
      gatewayConfig: '/g.json',
      forwarderConfig: '/f.json',
      gatewayHealthPort: 3001,
      forwarderHealthPort: 3002,
      logDir: '/logs',
      routes: [web],
    });
    expect(text).toContain('  relay-gateway    pid 1  config /g.json  health http://127.0.0.1:3001/readyz');
    expect(text).toContain('  relay-forwarder  pid 2  config /f.json  health http://127.0.0.1:3002/readyz');
  });

  it('finds executables on a PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-path-'));
    try {
      writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
      chmodSync(join(dir, 'tool'), 0o755);
      writeFileSync(join(dir, 'data'), '');
      expect(onPath('tool', `/nonexistent:${dir}`)).toBe(true);
      expect(onPath('data', dir)).toBe(false);
      expect(onPath('missing', dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
