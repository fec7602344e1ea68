// Static files of the console, served from this package only (no CDN: the console works with no
// internet): its own CSS and script, and mermaid's browser bundle from node_modules. Read once,
// gzipped once, cached by the browser for an hour.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const ASSET_DIR = 'src/service/console/assets';
/**
 * The package root: the nearest directory above this module that holds the assets. This module
 * runs from src/service/console (tests), dist/service/console (tsc) or dist/cli (the CLI bundle).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, ASSET_DIR)) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const OWN = (name: string): string => join(packageRoot(), ASSET_DIR, name);

export const ASSETS: Record<string, { file: () => string; type: string }> = {
  'console.css': { file: () => OWN('console.css'), type: 'text/css; charset=utf-8' },
  'console.js': { file: () => OWN('console.js'), type: 'text/javascript; charset=utf-8' },
  'mermaid.min.js': { file: () => require.resolve('mermaid/dist/mermaid.min.js'), type: 'text/javascript; charset=utf-8' },
};

const cache = new Map<string, { raw: Buffer; gzip: Buffer }>();

export function asset(name: string): { raw: Buffer; gzip: Buffer; type: string } | null {
  const spec = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!spec) return null;
  let hit = cache.get(name);
  if (!hit) {
    const raw = readFileSync(spec.file());
    hit = { raw, gzip: gzipSync(raw) };
    cache.set(name, hit);
  }
  return { ...hit, type: spec.type };
}
