#!/usr/bin/env node
// The physical-limit anchor of bench/fanout: the least a Node controller can do for a runbook
// over ssh2. One connection per host (host key checked against a known_hosts line), Nagle off,
// each step exec'd on every host at once, the next step only when all hosts are done; no
// journal, no output files, no templating. Exit 0 only if every host ran every step with
// exit code 0. Prints phase timings as one JSON line on stderr.
//
//   node bench/ssh2-raw.mjs --hosts N --port P --user U --key FILE --known-hosts FILE --steps FILE [--pacing C]
//
// --steps is a file with one shell command per line. All hosts are aliases of 127.0.0.1:P.
// --pacing C opens at most C connections at once (default: all N at once); at 1,000 hosts a
// single sshd's handshakes otherwise outlast any sane ready timeout on a 2-core box.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';

const { values: opt } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1' },
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    user: { type: 'string' },
    key: { type: 'string' },
    'known-hosts': { type: 'string' },
    steps: { type: 'string' },
    pacing: { type: 'string' },
  },
});
for (const k of ['port', 'user', 'key', 'known-hosts', 'steps']) {
  if (!opt[k]) {
    console.error(`ssh2-raw: --${k} is required`);
    process.exit(64);
  }
}
const N = Number(opt.hosts);
const pacing = opt.pacing ? Number(opt.pacing) : N;
const port = Number(opt.port);
const steps = readFileSync(opt.steps, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const privateKey = readFileSync(opt.key);

// The host key we trust: the known_hosts line for [address]:port (plain, not hashed: we wrote it).
const hostPattern = port === 22 ? opt.address : `[${opt.address}]:${port}`;
const trusted = readFileSync(opt['known-hosts'], 'utf8')
  .split('\n')
  .map((l) => l.trim().split(/\s+/))
  .filter((f) => f.length >= 3 && f[0].split(',').includes(hostPattern))
  .map((f) => Buffer.from(f[2], 'base64'));
if (trusted.length === 0) {
  console.error(`ssh2-raw: no known_hosts entry for ${hostPattern} in ${opt['known-hosts']}`);
  process.exit(64);
}

function connect(alias) {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('connect', () => c.setNoDelay(true));
    c.once('ready', () => resolve(c));
    c.once('error', (err) => reject(new Error(`${alias}: ${err.message}`)));
    c.connect({
      host: opt.address,
      port,
      username: opt.user,
      privateKey,
      readyTimeout: 60_000,
      hostVerifier: (key) => trusted.some((t) => t.equals(key)),
    });
  });
}

function exec(client, alias, command) {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(new Error(`${alias}: exec ${command}: ${err.message}`));
      const out = [];
      const errs = [];
      let code = null;
      let signal = null;
      ch.on('data', (d) => out.push(d));
      ch.stderr.on('data', (d) => errs.push(d));
      ch.on('exit', (c, s) => {
        code = c;
        signal = s ?? null;
      });
      ch.on('close', () => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() }));
    });
  });
}

const aliases = Array.from({ length: N }, (_, i) => `h-${String(i + 1).padStart(3, '0')}`);
const tImported = performance.now();
let failures = 0;
let clients = [];
const stepMs = [];
try {
  clients = new Array(N);
  // At most `pacing` handshakes in flight: each worker takes the next alias when its last is up.
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      clients[i] = await connect(aliases[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(pacing, N) }, worker));
  const tConnected = performance.now();
  for (const command of steps) {
    const s = performance.now();
    const results = await Promise.all(clients.map((c, i) => exec(c, aliases[i], command)));
    stepMs.push(performance.now() - s);
    results.forEach((r, i) => {
      if (r.code !== 0) {
        failures++;
        if (failures <= 5) console.error(`ssh2-raw: ${aliases[i]}: "${command}" exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
      }
    });
  }
  const tSteps = performance.now();
  await Promise.all(clients.map((c) => new Promise((r) => (c.once('close', r), c.end()))));
  const tEnd = performance.now();
  console.error(
    JSON.stringify({
      hosts: N,
      steps: steps.length,
      // performance.now() counts from process start: node start-up plus loading ssh2.
      startMs: Math.round(tImported),
      pacing,
      connectMs: Math.round(tConnected - tImported),
      stepsMs: Math.round(tSteps - tConnected),
      perStepMs: Number(((tSteps - tConnected) / steps.length).toFixed(2)),
      closeMs: Math.round(tEnd - tSteps),
      execsOk: N * steps.length - failures,
    }),
  );
} catch (err) {
  console.error(`ssh2-raw: ${err.message}`);
  for (const c of clients) c?.end();
  process.exit(4);
}
process.exit(failures === 0 ? 0 : 1);
