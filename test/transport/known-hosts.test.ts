import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatKnownHostsLine,
  hashHostName,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostsName,
  matchPattern,
  parseKnownHosts,
  sha256Fingerprint,
} from '../../src/transport/known-hosts-file.js';
import { describeVerdict, isAccepted, KnownHostsVerifier } from '../../src/transport/known-hosts.js';

function newKey(type: 'ed25519' | 'ecdsa' = 'ed25519'): Buffer {
  // Retry: ssh2's generator occasionally emits a malformed key (see generateUserKey).
  for (;;) {
    const pair = type === 'ecdsa' ? utils.generateKeyPairSync('ecdsa', { bits: 256 }) : utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(pair.public);
    if (!(parsed instanceof Error)) return parsed.getPublicSSH();
  }
}

const keyA = newKey();
const keyB = newKey();
const keyEcdsa = newKey('ecdsa');
const b64 = (k: Buffer) => k.toString('base64');
const tmp = mkdtempSync(join(tmpdir(), 'remedy-kh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('known_hosts parsing', () => {
  it('reads plain, bracketed, marked and commented lines and skips malformed ones', () => {
    const text = [
      '# comment',
      '',
      `web1,10.0.0.1 ssh-ed25519 ${b64(keyA)} admin@box`,
      `[db.example.com]:2222 ssh-ed25519 ${b64(keyB)}`,
      `@revoked * ssh-ed25519 ${b64(keyB)}`,
      `@cert-authority *.example.com ssh-ed25519 ${b64(keyA)}`,
      `@bogus host ssh-ed25519 ${b64(keyA)}`,
      'broken-line-without-key',
      `mismatched ssh-rsa ${b64(keyA)}`,
      `badb64 ssh-ed25519 !!!notbase64`,
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).toEqual([
      [3, null, 'web1,10.0.0.1', 'ssh-ed25519'],
      [4, null, '[db.example.com]:2222', 'ssh-ed25519'],
      [5, 'revoked', '*', 'ssh-ed25519'],
      [6, 'cert-authority', '*.example.com', 'ssh-ed25519'],
    ]);
    expect(entries[0]?.key.equals(keyA)).toBe(true);
    expect(entries[0]?.file).toBe('kh');
  });

  it('names hosts like OpenSSH: bare on port 22, [host]:port otherwise, lower-cased', () => {
    expect(knownHostsName('Web1.Example.com', 22)).toBe('web1.example.com');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('reads the key type from the blob and fingerprints like ssh-keygen -l', () => {
    expect(keyTypeOfBlob(keyA)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(keyEcdsa)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBeNull();
    const file = join(tmp, 'fp.pub');
    writeFileSync(file, `ssh-ed25519 ${b64(keyA)} x\n`);
    const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split(' ')[1]).toBe(sha256Fingerprint(keyA));
    expect(sha256Fingerprint(keyA)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('host patterns', () => {
  it('matches * and ? globs', () => {
    expect(matchPattern('web12.example.com', '*.example.com')).toBe(true);
    expect(matchPattern('web12.example.com', 'web??.example.com')).toBe(true);
    expect(matchPattern('web123.example.com', 'web??.example.com')).toBe(false);
    expect(matchPattern('anything', '*')).toBe(true);
    expect(matchPattern('abc', 'a*c*')).toBe(true);
    expect(matchPattern('abd', 'a*c')).toBe(false);
    expect(matchPattern('[10.0.0.1]:2222', '[10.0.0.*]:2222')).toBe(true);
  });

  it('treats comma lists as OR, negation as a veto, and is case-insensitive', () => {
    expect(hostFieldMatches('a,b,c', 'b')).toBe(true);
    expect(hostFieldMatches('*.corp,!bastion.corp', 'web.corp')).toBe(true);
    expect(hostFieldMatches('*.corp,!bastion.corp', 'bastion.corp')).toBe(false);
    expect(hostFieldMatches('!bastion.corp', 'web.corp')).toBe(false); // negation alone never matches
    expect(hostFieldMatches('WEB1', 'web1')).toBe(true);
    expect(hostFieldMatches('web1', '[web1]:2222')).toBe(false); // port must be spelled out
  });

  it('matches hashed |1|salt|hmac fields only for the hashed name', () => {
    const salt = Buffer.alloc(20, 7);
    const field = hashHostName('[127.0.0.1]:2222', salt);
    expect(field).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$/);
    expect(hostFieldMatches(field, '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches(field, '[127.0.0.1]:2223')).toBe(false);
    expect(hostFieldMatches(field, '127.0.0.1')).toBe(false);
    expect(hostFieldMatches('|2|abc|def', '127.0.0.1')).toBe(false);
    expect(hostFieldMatches('|1|c2FsdA==|c2hvcnQ=', '127.0.0.1')).toBe(false); // wrong-length hmac
  });

  it('agrees with ssh-keygen -H on hashing', () => {
    const file = join(tmp, 'hashed');
    writeFileSync(file, `[127.0.0.1]:2222 ssh-ed25519 ${b64(keyA)}\nplain.example ssh-ed25519 ${b64(keyB)}\n`);
    const r = spawnSync('ssh-keygen', ['-H', '-f', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'));
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
    expect(hostFieldMatches(entries[0]!.hosts, '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches(entries[1]!.hosts, 'plain.example')).toBe(true);
    expect(hostFieldMatches(entries[1]!.hosts, 'other.example')).toBe(false);
  });
});

describe('KnownHostsVerifier', () => {
  const write = (name: string, text: string) => {
    const f = join(tmp, name);
    writeFileSync(f, text);
    return f;
  };

  it('accepts a known key, also from a hashed entry, and reports its file:line', () => {
    const f = write('kh1', `# x\n${formatKnownHostsLine('[h]:2222', keyA, { hash: true })}\n`);
    const v = new KnownHostsVerifier({ files: [f] }).verify('h', 2222, keyA);
    expect(v.status).toBe('known');
    expect(isAccepted(v)).toBe(true);
    if (v.status === 'known') expect(`${v.entry.file}:${v.entry.line}`).toBe(`${f}:2`);
  });

  it('refuses a changed key with both fingerprints, even under accept-new', () => {
    const f = write('kh2', `[h]:2222 ssh-ed25519 ${b64(keyA)}\n`);
    const verifier = new KnownHostsVerifier({ files: [f], acceptNew: true });
    const v = verifier.verify('h', 2222, keyB);
    expect(v.status).toBe('changed');
    expect(isAccepted(v)).toBe(false);
    const msg = describeVerdict(v, [f]);
    expect(msg).toContain(sha256Fingerprint(keyA));
    expect(msg).toContain(sha256Fingerprint(keyB));
    expect(msg).toContain(`${f}:1`);
    expect(readFileSync(f, 'utf8')).toBe(`[h]:2222 ssh-ed25519 ${b64(keyA)}\n`); // nothing recorded
  });

  it('treats a known host presenting another key type as changed, not new', () => {
    const f = write('kh3', `[h]:2222 ecdsa-sha2-nistp256 ${b64(keyEcdsa)}\n`);
    const verifier = new KnownHostsVerifier({ files: [f], acceptNew: true });
    expect(verifier.knownKeyTypes('h', 2222)).toEqual(['ecdsa-sha2-nistp256']);
    expect(verifier.verify('h', 2222, keyA).status).toBe('changed');
  });

  it('refuses an unknown host with its fingerprint unless accept-new', () => {
    const f = write('kh4', `other ssh-ed25519 ${b64(keyA)}\n`);
    const v = new KnownHostsVerifier({ files: [f] }).verify('h', 2222, keyB);
    expect(v.status).toBe('unknown');
    expect(describeVerdict(v, [f])).toContain(sha256Fingerprint(keyB));
    expect(describeVerdict(v, [f])).toContain('--accept-new-host-keys');
  });

  it('records an unknown host under accept-new, plain or hashed, and knows it afterwards', () => {
    const plain = join(tmp, 'sub', 'kh5'); // directory created on demand
    const v1 = new KnownHostsVerifier({ files: [plain], acceptNew: true });
    expect(v1.verify('h', 2222, keyA).status).toBe('accepted-new');
    expect(v1.verify('h', 2222, keyA).status).toBe('known');
    expect(readFileSync(plain, 'utf8')).toBe(`[h]:2222 ssh-ed25519 ${b64(keyA)}\n`);
    expect(new KnownHostsVerifier({ files: [plain] }).verify('h', 2222, keyA).status).toBe('known');

    const hashed = write('kh6', '');
    const v2 = new KnownHostsVerifier({ files: [hashed], acceptNew: true, hashNew: true });
    expect(v2.verify('h', 22, keyB).status).toBe('accepted-new');
    const text = readFileSync(hashed, 'utf8');
    expect(text).toMatch(/^\|1\|\S+ ssh-ed25519 \S+\n$/);
    expect(text).not.toContain(' h ');
    expect(new KnownHostsVerifier({ files: [hashed] }).verify('h', 22, keyB).status).toBe('known');
  });

  it('refuses a key marked @revoked even when a plain entry accepts it', () => {
    const f = write('kh7', `h ssh-ed25519 ${b64(keyA)}\n@revoked * ssh-ed25519 ${b64(keyA)}\n`);
    const v = new KnownHostsVerifier({ files: [f], acceptNew: true }).verify('h', 22, keyA);
    expect(v.status).toBe('revoked');
    expect(describeVerdict(v, [f])).toContain('@revoked');
  });

  it('ignores @cert-authority lines (ssh2 has no host certificates)', () => {
    const f = write('kh8', `@cert-authority * ssh-ed25519 ${b64(keyA)}\n`);
    expect(new KnownHostsVerifier({ files: [f] }).verify('h', 22, keyA).status).toBe('unknown');
  });

  it('honours negated patterns when deciding whether a host is known', () => {
    const f = write('kh9', `*.corp,!bastion.corp ssh-ed25519 ${b64(keyA)}\n`);
    const v = new KnownHostsVerifier({ files: [f] });
    expect(v.verify('web.corp', 22, keyA).status).toBe('known');
    expect(v.verify('bastion.corp', 22, keyA).status).toBe('unknown');
  });

  it('reads several files, a missing one counting as empty', () => {
    const f = write('kh10', `h ssh-ed25519 ${b64(keyA)}\n`);
    const v = new KnownHostsVerifier({ files: [join(tmp, 'does-not-exist'), f] });
    expect(v.verify('h', 22, keyA).status).toBe('known');
  });
});
