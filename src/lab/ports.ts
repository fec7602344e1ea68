// Finds a block of free loopback ports for a lab. The default block is derived from the lab
// directory (stable across `up`s, different for concurrent labs); a busy block moves on.
import { createServer } from 'node:net';
import { RemedyError, UsageError } from '../errors.js';

const LOWEST = 20000;
/** Linux hands out ephemeral ports from 32768; staying below avoids colliding with clients. */
const HIGHEST = 32700;

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function busyPorts(base: number, count: number): Promise<number[]> {
  const ports = Array.from({ length: count }, (_, i) => base + i);
  const free = await Promise.all(ports.map(portFree));
  return ports.filter((_, i) => !free[i]);
}

/**
 * The first port of a free block of `count` ports. With `explicit`, that block or an error;
 * otherwise start at `preferred` and try the following blocks (wrapping around).
 */
export async function allocatePortBlock(count: number, preferred: number, explicit: boolean): Promise<number> {
  if (explicit) {
    if (!Number.isInteger(preferred) || preferred < 1024 || preferred + count - 1 > 65535) {
      throw new UsageError(`--base-port must leave room for ${count} ports between 1024 and 65535 (got ${preferred})`);
    }
    const busy = await busyPorts(preferred, count);
    if (busy.length) throw new RemedyError(`ports already in use on 127.0.0.1: ${busy.join(', ')}; choose another --base-port`);
    return preferred;
  }
  const step = Math.ceil(count / 100) * 100;
  const blocks = Math.floor((HIGHEST - LOWEST) / step);
  const first = Math.floor((preferred - LOWEST) / step);
  for (let i = 0; i < blocks; i++) {
    const base = LOWEST + (((first + i) % blocks) + blocks) % blocks * step;
    if ((await busyPorts(base, count)).length === 0) return base;
  }
  throw new RemedyError(`no block of ${count} free ports between ${LOWEST} and ${HIGHEST} on 127.0.0.1`);
}
