import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StatusError } from './errors';

/** One file the page needs, held in memory. */
export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The page's own files, next to this module (a build must copy `static/` beside the compiled file). */
export const DEFAULT_STATIC_DIR = join(__dirname, 'static');

const OWN: Readonly<Record<string, readonly [file: string, contentType: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/render.js': ['render.js', 'text/javascript; charset=utf-8'],
  '/breakdown.js': ['breakdown.js', 'text/javascript; charset=utf-8'],
  '/actions.js': ['actions.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

// uPlot is served from node_modules as installed (pinned by package-lock.json), never copied into the repo.
const VENDOR: Readonly<Record<string, readonly [module: string, contentType: string]>> = {
  '/vendor/uplot.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/vendor/uplot.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

/**
 * Reads every file the page needs once, at start: requests are then answered from a fixed table, so no request
 * path ever reaches the file system. Fails with STATUS_BAD_OPTIONS naming a missing file.
 */
export async function loadAssets(staticDir = DEFAULT_STATIC_DIR): Promise<ReadonlyMap<string, Asset>> {
  const assets = new Map<string, Asset>();
  const load = async (route: string, path: string, contentType: string) => {
    try {
      assets.set(route, { contentType, body: await readFile(path) });
    } catch (err) {
      throw new StatusError('STATUS_BAD_OPTIONS', `status view file missing: ${path}`, false, undefined, {
        cause: err,
      });
    }
  };
  for (const [route, [file, type]] of Object.entries(OWN)) await load(route, join(staticDir, file), type);
  for (const [route, [module, type]] of Object.entries(VENDOR)) {
    let path: string;
    try {
      path = require.resolve(module);
    } catch (err) {
      throw new StatusError('STATUS_BAD_OPTIONS', `npm package file missing: ${module}`, false, undefined, {
        cause: err,
      });
    }
    await load(route, path, type);
  }
  assets.set('/index.html', assets.get('/')!);
  return assets;
}
