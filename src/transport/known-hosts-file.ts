// known_hosts parsing and host matching, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes it.
// Pure functions over text, so the verifier (known-hosts.ts) and the unit tests share one parser.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type KnownHostsMarker = 'revoked' | 'cert-authority' | null;

export interface KnownHostsEntry {
  file: string;
  /** 1-based line number, for messages ("known_hosts:12"). */
  line: number;
  marker: KnownHostsMarker;
  /** The raw host field: a comma list of patterns, or one `|1|salt|hmac` hash. */
  hosts: string;
  keyType: string;
  /** The public key blob (base64-decoded third field). */
  key: Buffer;
}

/** Parses a known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostsMarker = null;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    // The blob starts with its own type name; a line whose two disagree is corrupt.
    if (keyTypeOfBlob(key) !== keyType) continue;
    entries.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** The name under which OpenSSH records a host: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** The key type name at the start of an SSH public key blob (e.g. `ssh-ed25519`). */
export function keyTypeOfBlob(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return null;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint format, as `ssh-keygen -l` prints it: `SHA256:` + unpadded base64. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** A `|1|salt|hmac` field for `name`, with a fresh or given salt (HashKnownHosts format). */
export function hashHostName(name: string, salt: Buffer): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

/** Glob match with `*` and `?` only, as OpenSSH's match_pattern (case already folded). */
export function matchPattern(name: string, pattern: string): boolean {
  // Iterative wildcard matching: no regular expressions built from file contents.
  let n = 0;
  let p = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starN = n;
    } else if (pc !== undefined && (pc === '?' || pc === name[n])) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Does the host field of an entry name this host? Hashed fields are compared in constant time;
 * comma lists follow OpenSSH: any negated match wins (no match), else any positive match.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  const lname = name.toLowerCase();
  if (field.startsWith('|')) {
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1') return false;
    const salt = Buffer.from(parts[2] ?? '', 'base64');
    const want = Buffer.from(parts[3] ?? '', 'base64');
    const got = createHmac('sha1', salt).update(lname).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  let positive = false;
  for (const raw of field.split(',')) {
    if (raw === '') continue;
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (matchPattern(lname, pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** Formats the line recorded for a newly accepted key. */
export function formatKnownHostsLine(name: string, key: Buffer, options: { hash?: boolean | undefined; salt?: Buffer | undefined } = {}): string {
  const type = keyTypeOfBlob(key) ?? 'unknown';
  // 20-byte salt, the length ssh-keygen -H uses (the HMAC-SHA1 output size).
  const field = options.hash ? hashHostName(name, options.salt ?? randomBytes(20)) : name;
  return `${field} ${type} ${key.toString('base64')}`;
}
