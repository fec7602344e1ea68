// Where the lab's non-TypeScript parts live: the repository's top-level lab/ folder (Java
// sources, host scripts, templates). Same relative position from src/lab and dist/lab.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LAB_ASSETS = fileURLToPath(new URL('../../lab/', import.meta.url));

export function labAsset(relative: string): string {
  return LAB_ASSETS + relative;
}

export function readAsset(relative: string): string {
  return readFileSync(labAsset(relative), 'utf8');
}
