// The load cache of `remedy test` (src/testing/load-cache.ts): a test file or runbook loaded
// before comes back the same, with the same positions, and anything changed (its text, an
// include, an imported vars file, the code) or untrusted loads afresh.
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRunbook, type LoadedRunbook } from '../../src/runbook/index.js';
import { parseSource, positionAt } from '../../src/runbook/source.js';
import { LoadCache } from '../../src/testing/load-cache.js';
import { parseTestFile } from '../../src/testing/load.js';

const ROOT = join(import.meta.dirname, '../..');
const CODE = join(ROOT, 'src/testing');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'remedy-load-cache-'));
  dirs.push(d);
  return d;
}

/** The shipped apigee runbooks (the 502 runbook includes five, and imports apigee.vars.yaml) in a scratch copy. */
function apigeeCopy(): string {
  const d = scratch();
  cpSync(join(ROOT, 'runbooks/apigee'), join(d, 'apigee'), { recursive: true });
  return join(d, 'apigee');
}

const TEST_FILE = 'runbooks/apigee/tests/apigee-502-bad-gateway.test.yaml';

function tree(r: LoadedRunbook): unknown {
  return { file: r.file, runbook: r.runbook, includes: [...r.includes].map(([k, v]) => [k, tree(v)]) };
}

describe('remedy test load cache', () => {
  it('a test file comes back with the same data and positions, recorded or not; changed text is loaded afresh', () => {
    const dir = scratch();
    const file = join(ROOT, TEST_FILE);
    const text = readFileSync(file, 'utf8');
    const fresh = parseTestFile(file, text);
    const source = parseSource(TEST_FILE, text).source;

    const first = new LoadCache(dir, CODE);
    expect(first.testFile(file, TEST_FILE, text)).toBeUndefined();
    const position = first.putTestFile(file, text, fresh.data, source);
    expect(position(['cases', 3])).toEqual(fresh.position(['cases', 3]));
    first.flush();
    expect(readdirSync(dir).filter((n) => n.startsWith('test-loads-'))).toHaveLength(1);

    const second = new LoadCache(dir, CODE);
    const hit = second.testFile(file, TEST_FILE, text);
    expect(hit?.data).toEqual(fresh.data);
    // Recorded in the first run, and one it never asked for (parsed now, as the loader would).
    expect(hit?.position(['cases', 3])).toEqual(fresh.position(['cases', 3]));
    expect(hit?.position(['cases', 7, 'expect', 'cause'])).toEqual(positionAt(source, ['cases', 7, 'expect', 'cause']));
    expect(hit?.position(['cases', 7, 'expect', 'nosuch'])).toEqual(positionAt(source, ['cases', 7, 'expect']));

    expect(new LoadCache(dir, CODE).testFile(file, TEST_FILE, `${text}\n# edited\n`)).toBeUndefined();
  });

  it('entries belong to one build of the code: bundle chunks (named by content) and entry files decide', () => {
    const dir = scratch();
    const build = (chunk: string, main: string): string => {
      const code = mkdtempSync(join(scratch(), 'cli-'));
      writeFileSync(join(code, `chunk-${chunk}.js`), '');
      writeFileSync(join(code, 'main.js'), main);
      return code;
    };
    const file = join(ROOT, TEST_FILE);
    const text = readFileSync(file, 'utf8');
    const data = parseTestFile(file, text).data;
    const a = build('AAAA1111', 'import "./chunk-AAAA1111.js";');
    const c = new LoadCache(dir, a);
    c.putTestFile(file, text, data, parseSource(TEST_FILE, text).source);
    c.flush();
    expect(new LoadCache(dir, build('AAAA1111', 'import "./chunk-AAAA1111.js";')).testFile(file, TEST_FILE, text)?.data).toEqual(data);
    expect(new LoadCache(dir, build('BBBB2222', 'import "./chunk-AAAA1111.js";')).testFile(file, TEST_FILE, text)).toBeUndefined();
    expect(new LoadCache(dir, build('AAAA1111', 'import "./chunk-AAAA1111.js"; ')).testFile(file, TEST_FILE, text)).toBeUndefined();
  });

  it('a runbook comes back as the loader returned it, includes and positions too, until one of its files changes', () => {
    const dir = scratch();
    const apigee = apigeeCopy();
    const file = join(apigee, 'apigee-502-bad-gateway.yaml');
    const loaded = loadRunbook(file).loaded;

    const first = new LoadCache(dir, CODE);
    expect(first.runbook(file)).toBeUndefined();
    const recorded = first.putRunbook(loaded);
    expect(tree(recorded)).toEqual(tree(loaded));
    expect(recorded.position(['steps', 2, 'run'])).toEqual(loaded.position(['steps', 2, 'run']));
    first.flush();

    const hit = new LoadCache(dir, CODE).runbook(file);
    expect(hit).toBeDefined();
    expect(tree(hit as LoadedRunbook)).toEqual(tree(loaded));
    expect(hit?.position(['steps', 2, 'run'])).toEqual(loaded.position(['steps', 2, 'run']));
    expect(hit?.position(['steps', 4, 'name'])).toEqual(loaded.position(['steps', 4, 'name']));
    const [step, child] = [...loaded.includes][0] as [string, LoadedRunbook];
    expect(hit?.includes.get(step)?.position(['steps', 0])).toEqual(child.position(['steps', 0]));

    // An included runbook edited: the whole tree loads afresh.
    writeFileSync(child.file, `${readFileSync(child.file, 'utf8')}\n# edited\n`);
    expect(new LoadCache(dir, CODE).runbook(file)).toBeUndefined();
  });

  it('an imported vars file that changed, or a file someone else can write, is not used', () => {
    const dir = scratch();
    const apigee = apigeeCopy();
    const file = join(apigee, 'apigee-502-bad-gateway.yaml');
    const c = new LoadCache(dir, CODE);
    c.putRunbook(loadRunbook(file).loaded);
    c.flush();
    expect(new LoadCache(dir, CODE).runbook(file)).toBeDefined();

    const cacheFile = join(dir, readdirSync(dir).find((n) => n.startsWith('test-loads-')) as string);
    chmodSync(cacheFile, 0o666);
    expect(new LoadCache(dir, CODE).runbook(file)).toBeUndefined();
    chmodSync(cacheFile, 0o600);
    expect(new LoadCache(dir, CODE).runbook(file)).toBeDefined();

    const vars = join(dirname(file), 'apigee.vars.yaml');
    writeFileSync(vars, `${readFileSync(vars, 'utf8')}\n# edited\n`);
    expect(new LoadCache(dir, CODE).runbook(file)).toBeUndefined();
  });

  it('entries of files that are gone (a temporary project of a test) are dropped when the cache is written', () => {
    const dir = scratch();
    const gone = join(scratch(), 'gone.test.yaml');
    const kept = join(ROOT, TEST_FILE);
    const text = readFileSync(kept, 'utf8');
    writeFileSync(gone, text);
    const data = parseTestFile(kept, text).data;
    const source = parseSource(TEST_FILE, text).source;
    const a = new LoadCache(dir, CODE);
    a.putTestFile(gone, text, data, source);
    a.flush();
    expect(new LoadCache(dir, CODE).testFile(gone, 'gone.test.yaml', text)).toBeDefined();
    rmSync(gone);
    const b = new LoadCache(dir, CODE);
    b.putTestFile(kept, text, data, source);
    b.flush();
    const file = readFileSync(join(dir, readdirSync(dir).find((n) => n.startsWith('test-loads-')) as string), 'utf8');
    expect(file).toContain(JSON.stringify(kept));
    expect(file).not.toContain(JSON.stringify(gone));
  });

  it('turned off (no directory): nothing is kept, loads still work', () => {
    const c = new LoadCache(null, CODE);
    const file = join(ROOT, TEST_FILE);
    const text = readFileSync(file, 'utf8');
    const fresh = parseTestFile(file, text);
    const position = c.putTestFile(file, text, fresh.data, parseSource(TEST_FILE, text).source);
    expect(position(['cases', 1])).toEqual(fresh.position(['cases', 1]));
    c.flush();
    expect(c.testFile(file, TEST_FILE, text)).toBeUndefined();
  });
});
