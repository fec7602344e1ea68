// Summary of a V8 .cpuprofile (from `node --cpu-prof`) as Markdown: where a remedy run spends
// its time, by function (self and inclusive), by file and by remedy folder. Used by
// bench/fanout-report.mjs, and on its own: `node bench/fanout-profile.mjs FILE.cpuprofile`.
//
// Caveat: V8 samples the main thread's stack on a timer, whether the thread is on a CPU or not.
// A thread descheduled inside a syscall is charged to that syscall's binding: on a loaded
// 2-core box, socket writes (`writeBuffer`, which wake sshd on loopback) and `fsync` collect
// time the controller spent waiting for a CPU. Compare CPU seconds from /usr/bin/time too.
import { readFileSync } from 'node:fs';

const shortUrl = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
    .replace(/^.*\/dist\//, 'dist/') || '(native/VM)';

export function summarizeProfile(path, top = 15) {
  const p = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const f = n.callFrame;
    return f.url ? `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}` : f.functionName || '(anonymous)';
  };
  const self = new Map();
  const incl = new Map();
  const files = new Map();
  // Each sample charged to the deepest remedy (dist/) frame on its stack: which part of remedy
  // caused the work, including the library and native code it called.
  const folders = new Map();
  let loading = 0;
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + dt);
    const file = node.callFrame.url ? shortUrl(node.callFrame.url) : node.callFrame.functionName;
    files.set(file, (files.get(file) ?? 0) + dt);
    const seen = new Set();
    let folder;
    let isLoading = false;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      if (/modules\/(esm|cjs)\//.test(f.url) || f.functionName === 'compileSourceTextModule') isLoading = true;
      if (folder === undefined && f.url.includes('/dist/')) folder = shortUrl(f.url).split('/').slice(0, 2).join('/');
      const ck = key(byId.get(cur));
      if (seen.has(ck)) continue;
      seen.add(ck);
      incl.set(ck, (incl.get(ck) ?? 0) + dt);
    }
    if (isLoading) loading += dt;
    const fk = isLoading ? '(module loading)' : (folder ?? '(no remedy frame: event loop, ssh2 callbacks, GC)');
    folders.set(fk, (folders.get(fk) ?? 0) + dt);
  });
  const busy = total - idle;
  const pct = (x) => `${((100 * x) / busy).toFixed(1)}%`;
  const ms = (x) => `${(x / 1000).toFixed(0)} ms`;
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
  const lines = [
    `### Profile of one remedy run (\`node --cpu-prof\`): ${ms(total)} of main-thread samples, ${ms(idle)} idle; shares are of the ${ms(busy)} not idle (this includes time descheduled inside syscalls, see bench/fanout-profile.mjs)`,
    '',
    '| by remedy folder (deepest dist/ frame) | share | part |',
    '|---|---|---|',
    ...sorted(folders).map(([k, v]) => `| ${ms(v)} | ${pct(v)} | \`${k}\` |`),
    '',
    '| self time | share | function |',
    '|---|---|---|',
    ...sorted(self)
      .slice(0, top)
      .map(([k, v]) => `| ${ms(v)} | ${pct(v)} | \`${k}\` |`),
    '',
    '| self time by file | share | file |',
    '|---|---|---|',
    ...sorted(files)
      .slice(0, top)
      .map(([k, v]) => `| ${ms(v)} | ${pct(v)} | \`${k}\` |`),
    '',
    '| inclusive (remedy code) | share | function |',
    '|---|---|---|',
    ...sorted(incl)
      .filter(([k]) => k.includes(' dist/'))
      .slice(0, top)
      .map(([k, v]) => `| ${ms(v)} | ${pct(v)} | \`${k}\` |`),
  ];
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 15)).join('\n'));
}
