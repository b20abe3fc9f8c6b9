// What the demo prints: the public ports, lines to try them, and the self-check's verdict (pure functions).
import { accessSync, constants } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import type { CheckResult } from './self-check';
import type { DemoRoute } from './world';

/** The parts of a running demo the banner shows. */
export interface BannerInfo {
  readonly namespace: string;
  readonly caFile: string;
  readonly gatewayPid?: number;
  readonly forwarderPid?: number;
  readonly gatewayConfig: string;
  readonly forwarderConfig: string;
  readonly gatewayHealthPort?: number;
  readonly forwarderHealthPort?: number;
  readonly logDir: string;
  readonly routes: readonly DemoRoute[];
}

/** The table of public ports and where each one leads. Paths are shown relative to `cwd`. */
export function formatBanner(info: BannerInfo, cwd = process.cwd()): string {
  const show = (path: string): string => (relative(cwd, path).startsWith('..') ? path : relative(cwd, path));
  const rows = [
    ['route', 'public address', 'hybrid connection / service', 'on-prem target'],
    ...info.routes.map((r) => [
      r.id,
      `127.0.0.1:${r.publicPort}`,
      `${r.location} / ${r.service}`,
      `127.0.0.1:${r.targetPort} (${r.kind === 'http' ? 'HTTP' : 'TCP echo'})`,
    ]),
  ];
  const table = alignColumns(rows).map((line) => `  ${line}`);
  return [
    'Sandbox tunnel demo: client → relay-gateway → sandbox Azure Relay (TLS) → relay-forwarder → service',
    '',
    `  sandbox relay    ${info.namespace}  (CA ${show(info.caFile)})`,
    ...alignColumns([
      [
        '  relay-gateway  ',
        `pid ${info.gatewayPid ?? '?'}`,
        `config ${show(info.gatewayConfig)}`,
        health(info.gatewayHealthPort),
      ],
      [
        '  relay-forwarder',
        `pid ${info.forwarderPid ?? '?'}`,
        `config ${show(info.forwarderConfig)}`,
        health(info.forwarderHealthPort),
      ],
    ]),
    `  logs             ${show(info.logDir)}/`,
    '',
    ...table,
  ].join('\n');
}

function health(port: number | undefined): string {
  return port === undefined ? '' : `health http://127.0.0.1:${port}/readyz`;
}

/** Pads every cell to its column's width, two spaces between columns. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

/** Ready-to-run lines for each route: curl for HTTP, nc (or a node one-liner without nc) for the echo. */
export function tryItLines(routes: readonly DemoRoute[], options: { readonly hasNc: boolean }): string[] {
  return routes.map((route) => {
    if (route.kind === 'http') return `curl http://127.0.0.1:${route.publicPort}/`;
    if (options.hasNc) return `printf 'hello\\n' | nc -q1 127.0.0.1 ${route.publicPort}`;
    return `node -e "const s=require('net').connect(${route.publicPort},'127.0.0.1',()=>s.end('hello\\n'));s.pipe(process.stdout)"`;
  });
}

/** One line per check, then a verdict. */
export function formatCheck(results: readonly CheckResult[]): string {
  const width = Math.max(0, ...results.map((r) => r.name.length));
  const lines = results.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.detail}`);
  const failed = results.filter((r) => !r.ok).length;
  const verdict =
    failed === 0
      ? `Self-check passed: ${results.length} of ${results.length}.`
      : `Self-check FAILED: ${failed} of ${results.length} did not answer as expected.`;
  return ['Self-check:', ...lines, verdict].join('\n');
}

/** True when an executable `name` is on PATH (to offer nc only where it exists). */
export function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
