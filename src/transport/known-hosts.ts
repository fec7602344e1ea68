// Strict host key checking for ssh2, which has none of its own (without a hostVerifier it
// accepts any key). Decisions follow OpenSSH's StrictHostKeyChecking=yes, with accept-new as
// an explicit opt-in: a changed or revoked key is always refused.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  formatKnownHostsLine,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostsName,
  parseKnownHosts,
  sha256Fingerprint,
  type KnownHostsEntry,
} from './known-hosts-file.js';

export interface KnownHostsOptions {
  /** Files read, in order; a missing file counts as empty. */
  files: string[];
  /** Where newly accepted keys are appended; default: the first of `files`. */
  recordFile?: string | undefined;
  /** Accept and record keys of hosts that have no entry yet (never a changed key). */
  acceptNew?: boolean | undefined;
  /**
   * Record new entries hashed (`|1|salt|hmac`, like HashKnownHosts yes). Default false: plain
   * `[host]:port` entries, so an operator can audit what a run added.
   */
  hashNew?: boolean | undefined;
}

export type HostKeyVerdict =
  | { status: 'known'; name: string; fingerprint: string; entry: KnownHostsEntry }
  | { status: 'accepted-new'; name: string; fingerprint: string; recordedIn: string }
  | { status: 'unknown'; name: string; fingerprint: string; keyType: string }
  | { status: 'changed'; name: string; fingerprint: string; keyType: string; expected: KnownHostsEntry[] }
  | { status: 'revoked'; name: string; fingerprint: string; keyType: string; entry: KnownHostsEntry };

export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

export class KnownHostsVerifier {
  readonly #files: string[];
  readonly #recordFile: string;
  readonly #acceptNew: boolean;
  readonly #hashNew: boolean;
  #entries: KnownHostsEntry[] | undefined;

  constructor(options: KnownHostsOptions) {
    if (options.files.length === 0 && !options.recordFile) throw new Error('KnownHostsVerifier needs at least one known_hosts file');
    this.#files = [...options.files];
    this.#recordFile = options.recordFile ?? options.files[0] ?? '';
    this.#acceptNew = options.acceptNew ?? false;
    this.#hashNew = options.hashNew ?? false;
  }

  get files(): readonly string[] {
    return this.#files;
  }

  /** Key types recorded for the host, so the client can ask the server for a key it can check. */
  knownKeyTypes(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    const types = this.#load()
      .filter((e) => e.marker === null && hostFieldMatches(e.hosts, name))
      .map((e) => e.keyType);
    return [...new Set(types)];
  }

  /** Decides about a presented key; with accept-new, records an unknown host's key first. */
  verify(host: string, port: number, key: Buffer): HostKeyVerdict {
    const name = knownHostsName(host, port);
    const fingerprint = sha256Fingerprint(key);
    const keyType = keyTypeOfBlob(key) ?? 'unknown';
    const forHost = this.#load().filter((e) => hostFieldMatches(e.hosts, name));
    const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(key));
    if (revoked) return { status: 'revoked', name, fingerprint, keyType, entry: revoked };
    const plain = forHost.filter((e) => e.marker === null);
    const match = plain.find((e) => e.key.equals(key));
    if (match) return { status: 'known', name, fingerprint, entry: match };
    // Any recorded key, even of another type, means the host is known: refuse, never re-learn.
    if (plain.length > 0) return { status: 'changed', name, fingerprint, keyType, expected: plain };
    if (!this.#acceptNew) return { status: 'unknown', name, fingerprint, keyType };
    this.#record(name, key);
    return { status: 'accepted-new', name, fingerprint, recordedIn: this.#recordFile };
  }

  #record(name: string, key: Buffer): void {
    const line = formatKnownHostsLine(name, key, { hash: this.#hashNew });
    mkdirSync(dirname(this.#recordFile), { recursive: true, mode: 0o700 });
    // One write with O_APPEND: concurrent connections each add a whole line.
    appendFileSync(this.#recordFile, `${line}\n`, { mode: 0o600 });
    const [entry] = parseKnownHosts(line, this.#recordFile);
    if (entry) this.#load().push({ ...entry, line: 0 });
  }

  #load(): KnownHostsEntry[] {
    if (!this.#entries) {
      this.#entries = [];
      for (const file of new Set([...this.#files, this.#recordFile])) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw new Error(`cannot read known_hosts file ${file}: ${(err as Error).message}`);
        }
        this.#entries.push(...parseKnownHosts(text, file));
      }
    }
    return this.#entries;
  }
}

/** True when the connection may proceed. */
export function isAccepted(v: HostKeyVerdict): boolean {
  return v.status === 'known' || v.status === 'accepted-new';
}

/** The message a refused verdict is reported with (UnreachableError text). */
export function describeVerdict(v: HostKeyVerdict, files: readonly string[]): string {
  const where = (e: KnownHostsEntry) => `${e.file}${e.line > 0 ? `:${e.line}` : ''}`;
  switch (v.status) {
    case 'known':
      return `host key ${v.fingerprint} for ${v.name} matches ${where(v.entry)}`;
    case 'accepted-new':
      return `host key ${v.fingerprint} for ${v.name} was not known; accepted and recorded in ${v.recordedIn}`;
    case 'unknown':
      return (
        `host key for ${v.name} is not known (${v.keyType} ${v.fingerprint}; looked in ${files.join(', ') || 'no files'}). ` +
        `Check the fingerprint with the host's owner, then add it to known_hosts or run with --accept-new-host-keys`
      );
    case 'changed':
      return (
        `HOST KEY CHANGED for ${v.name}: the server presented ${v.keyType} ${v.fingerprint}, but ` +
        v.expected.map((e) => `${where(e)} records ${e.keyType} ${sha256Fingerprint(e.key)}`).join('; ') +
        `. Someone may be intercepting the connection, or the host was reinstalled; refusing. ` +
        `If the change is expected, remove the old entry (ssh-keygen -R '${v.name}' -f ${v.expected[0]?.file ?? files[0] ?? '~/.ssh/known_hosts'}) and verify the new key`
      );
    case 'revoked':
      return `host key ${v.keyType} ${v.fingerprint} for ${v.name} is marked @revoked in ${where(v.entry)}; refusing`;
  }
}
