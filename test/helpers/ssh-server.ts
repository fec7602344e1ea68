// An in-process SSH server for fast, hermetic transport tests: ssh2's Server on 127.0.0.1:0 that
// runs exec requests through /bin/sh -c (as OpenSSH would, each in its own session), serves a
// read-only SFTP subset (enough for fastGet), forwards direct-tcpip to loopback (jump host
// tests), and can emulate MaxSessions. Keys are generated fresh per server.
//
//   const srv = await startSshServer({ maxSessions: 10 });
//   const pool = new TransportPool({ knownHostsFiles: [srv.knownHostsFile], agent: false, sshConfigFile: false });
//   ... srv.connectionFor() gives an inventory Connection; await srv.stop() in afterAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { constants as fsc, mkdtempSync, promises as fsp, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Server, utils, type Connection as SshServerConnection, type ServerChannel } from 'ssh2';
import type { Connection } from '../../src/inventory/types.js';
import { formatKnownHostsLine, knownHostsName, sha256Fingerprint } from '../../src/transport/known-hosts-file.js';

export interface TestSshServerOptions {
  /** Refuse session channels beyond this many open at once on one connection (sshd MaxSessions). */
  maxSessions?: number | undefined;
  /**
   * Start each command as leader of its own session, as OpenSSH does (default true). false
   * exercises the transport's setsid fallback.
   */
  groupLeader?: boolean | undefined;
  /** Environment for commands, over a minimal default (PATH, HOME=server dir, SHELL=/bin/sh). */
  env?: Record<string, string> | undefined;
  /** Reuse a host key (OpenSSH private key text) instead of generating one. */
  hostPrivateKey?: string | undefined;
  /** Allow direct-tcpip (jump host) forwarding to loopback. Default true. */
  forwarding?: boolean | undefined;
}

export interface TestSshServer {
  host: '127.0.0.1';
  port: number;
  /** The login name the server accepts (the current user's). */
  user: string;
  /** Scratch directory owned by the server (keys, known_hosts, HOME for commands). */
  dir: string;
  hostPrivateKey: string;
  /** SSH wire-format public host key blob. */
  hostKeyBlob: Buffer;
  hostKeyFingerprint: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  /** A known_hosts file containing knownHostsLine. */
  knownHostsFile: string;
  /** Unencrypted client private key file, authorized on this server. */
  clientKeyFile: string;
  /** Passphrase-protected client key file (passphrase below), also authorized. */
  encryptedClientKeyFile: string;
  passphrase: string;
  stats: { connections: number; openConnections: number; sessionsOpened: number; sessionsRejected: number; maxConcurrentSessions: number; execs: string[] };
  /** An inventory Connection that reaches this server with clientKeyFile. */
  connectionFor(extra?: Partial<Connection>): Connection;
  /** Stops reading from every client socket (a frozen host: TCP up, SSH silent). */
  freeze(): void;
  /** Drops every client connection abruptly. */
  dropConnections(): void;
  stop(): Promise<void>;
}

/** Writes a fresh ed25519 key pair; returns the OpenSSH private and public texts. */
export function generateUserKey(passphrase?: string): { private: string; public: string } {
  // ssh2 1.17's generator drops a leading zero byte of the ed25519 public key about once in
  // 250 keys ("Malformed OpenSSH public key"): retry until both halves parse and agree.
  for (let i = 0; i < 20; i++) {
    const pair = utils.generateKeyPairSync('ed25519', passphrase ? { passphrase, cipher: 'aes256-ctr', rounds: 4 } : {});
    const pub = utils.parseKey(pair.public);
    const priv = utils.parseKey(pair.private, passphrase);
    if (!(pub instanceof Error) && !(priv instanceof Error) && priv.getPublicSSH().equals(pub.getPublicSSH())) return pair;
  }
  throw new Error('could not generate a well-formed ed25519 key pair');
}

export async function startSshServer(options: TestSshServerOptions = {}): Promise<TestSshServer> {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-sshsrv-'));
  const hostPrivateKey = options.hostPrivateKey ?? generateUserKey().private;
  const hostParsed = utils.parseKey(hostPrivateKey);
  if (hostParsed instanceof Error) throw hostParsed;
  const hostKeyBlob = hostParsed.getPublicSSH();
  const passphrase = 'correct horse battery staple';
  const plain = generateUserKey();
  const encrypted = generateUserKey(passphrase);
  const clientKeyFile = join(dir, 'client_ed25519');
  const encryptedClientKeyFile = join(dir, 'client_ed25519_enc');
  writeFileSync(clientKeyFile, plain.private, { mode: 0o600 });
  writeFileSync(encryptedClientKeyFile, encrypted.private, { mode: 0o600 });
  const authorized = [plain.public, encrypted.public].map((pub) => {
    const k = utils.parseKey(pub);
    if (k instanceof Error) throw k;
    return k;
  });
  const user = userInfo().username;
  const stats = { connections: 0, openConnections: 0, sessionsOpened: 0, sessionsRejected: 0, maxConcurrentSessions: 0, execs: [] as string[] };
  const sockets = new Set<Socket>();
  const clients = new Set<SshServerConnection>();
  const children = new Set<ChildProcess>();
  const groupLeader = options.groupLeader ?? true;
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, SHELL: '/bin/sh', LANG: 'C.UTF-8', ...options.env };

  const server = new Server({ hostKeys: [hostPrivateKey] }, (client, info) => {
    stats.connections++;
    stats.openConnections++;
    clients.add(client);
    client.on('error', () => undefined); // handshake failures (refused host keys) are expected
    client.on('close', () => {
      stats.openConnections--;
      clients.delete(client);
    });
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== user) return ctx.reject(['publickey']);
      const key = authorized.find((k) => {
        const blob = k.getPublicSSH();
        return k.type === ctx.key.algo && blob.length === ctx.key.data.length && timingSafeEqual(blob, ctx.key.data);
      });
      if (!key) return ctx.reject(['publickey']);
      if (ctx.signature && ctx.blob && !key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
      ctx.accept();
    });
    void info;
    client.on('ready', () => {
      let open = 0;
      client.on('session', (accept, reject) => {
        if (options.maxSessions !== undefined && open >= options.maxSessions) {
          stats.sessionsRejected++;
          return reject();
        }
        const session = accept();
        open++;
        stats.sessionsOpened++;
        stats.maxConcurrentSessions = Math.max(stats.maxConcurrentSessions, open);
        let counted = true;
        const done = () => {
          if (counted) open--;
          counted = false;
        };
        session.on('close', done);
        session.on('exec', (acceptExec, _rejectExec, execInfo) => {
          stats.execs.push(execInfo.command);
          const ch = acceptExec();
          runExec(ch, execInfo.command, env, groupLeader, children, done);
        });
        session.on('sftp', (acceptSftp) => {
          serveSftp(acceptSftp());
        });
      });
      client.on('tcpip', (acceptTcp, rejectTcp, t) => {
        if (options.forwarding === false || !/^127\./.test(t.destIP)) return rejectTcp();
        const sock = netConnect(t.destPort, t.destIP);
        sockets.add(sock);
        sock.once('close', () => sockets.delete(sock));
        sock.once('error', () => rejectTcp());
        sock.once('connect', () => {
          const ch = acceptTcp();
          ch.on('error', () => undefined);
          ch.pipe(sock).pipe(ch);
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('ssh test server has no address');
  const port = address.port;
  // Track raw sockets so freeze()/stop() can reach them.
  const netServer = (server as unknown as { _srv: import('node:net').Server })._srv;
  netServer.on('connection', (s: Socket) => {
    // As sshd does; with Nagle on, every small reply waits for the client's delayed ACK (~40 ms).
    s.setNoDelay(true);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const knownHostsLine = formatKnownHostsLine(knownHostsName('127.0.0.1', port), hostKeyBlob);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${knownHostsLine}\n`);

  return {
    host: '127.0.0.1',
    port,
    user,
    dir,
    hostPrivateKey,
    hostKeyBlob,
    hostKeyFingerprint: sha256Fingerprint(hostKeyBlob),
    knownHostsLine,
    knownHostsFile,
    clientKeyFile,
    encryptedClientKeyFile,
    passphrase,
    stats,
    connectionFor: (extra = {}) => ({ type: 'ssh', address: '127.0.0.1', port, user, privateKeyFile: clientKeyFile, ...extra }),
    freeze: () => {
      for (const s of sockets) s.pause();
    },
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    stop: async () => {
      for (const c of children) killGroup(c, groupLeader);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

function killGroup(c: ChildProcess, group: boolean): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(group ? -c.pid : c.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

function runExec(ch: ServerChannel, command: string, env: Record<string, string>, groupLeader: boolean, children: Set<ChildProcess>, done: () => void): void {
  // cwd = HOME, as sshd does: relative paths in commands never land in the repository.
  const child = spawn('/bin/sh', ['-c', command], { detached: groupLeader, env, cwd: env.HOME, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.stdin.on('error', () => undefined);
  ch.on('error', () => undefined);
  ch.stderr.on('error', () => undefined);
  ch.pipe(child.stdin);
  const out = new ChannelWriter(ch, [child.stdout, child.stderr]);
  child.stdout.on('data', (d: Buffer) => out.write(false, d));
  child.stderr.on('data', (d: Buffer) => out.write(true, d));
  // Client gone (closed channel or connection): stop feeding the channel, as sshd would.
  ch.once('close', () => out.discard());
  child.once('error', () => {
    ch.exit(127);
    ch.end();
  });
  child.once('close', (code, signal) => {
    children.delete(child);
    // Output still queued for the client's window must go out before exit-status and EOF.
    void out.flushed().then(() => {
      if (code !== null) ch.exit(code);
      else ch.exit((signal ?? 'KILL').replace(/^SIG/, ''), false, '');
      ch.end();
      done();
    });
  });
}

/**
 * Writes stdout and stderr to a channel one chunk at a time, working around two ssh2 1.17
 * server bugs in window (backpressure) handling: when the client's window reopens it resumes
 * only one of the two streams, so piping both at once can leave stderr stuck; and it never
 * clears the remembered pending chunk, so a later stall replays a stale stdout chunk and its
 * callback ("multiple callback" → the channel is destroyed mid-command). Writes are serialised
 * and the remembered chunk is cleared once each write completed.
 */
class ChannelWriter {
  readonly #ch: ServerChannel;
  readonly #sources: import('node:stream').Readable[];
  readonly #queue: { err: boolean; data: Buffer }[] = [];
  #writing = false;
  #discarded = false;
  #idle: (() => void)[] = [];

  constructor(ch: ServerChannel, sources: import('node:stream').Readable[]) {
    this.#ch = ch;
    this.#sources = sources;
  }

  write(err: boolean, data: Buffer): void {
    if (this.#discarded) return;
    this.#queue.push({ err, data });
    if (this.#queue.length > 16) for (const s of this.#sources) s.pause();
    this.#pump();
  }

  discard(): void {
    this.#discarded = true;
    this.#queue.length = 0;
    for (const s of this.#sources) s.resume();
    this.#settle();
  }

  flushed(): Promise<void> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #pump(): void {
    if (this.#writing) return;
    const item = this.#queue.shift();
    if (!item) {
      for (const s of this.#sources) s.resume();
      this.#settle();
      return;
    }
    this.#writing = true;
    (item.err ? this.#ch.stderr : this.#ch).write(item.data, () => {
      const pending = this.#ch as unknown as Record<'_chunk' | '_chunkcb' | '_chunkErr' | '_chunkcbErr', unknown>;
      pending._chunk = pending._chunkcb = pending._chunkErr = pending._chunkcbErr = undefined;
      this.#writing = false;
      this.#pump();
    });
  }

  #settle(): void {
    if (this.#writing && !this.#discarded) return;
    for (const r of this.#idle.splice(0)) r();
  }
}

const { STATUS_CODE, OPEN_MODE } = utils.sftp;

/** Read-only SFTP: OPEN (read), FSTAT/STAT/LSTAT, READ, CLOSE — what fastGet needs. */
function serveSftp(sftp: import('ssh2').SFTPWrapper): void {
  const handles = new Map<number, fsp.FileHandle>();
  let next = 1;
  const handleOf = (buf: Buffer) => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
  const fail = (reqid: number, err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    // No message: ssh2 then sends the standard text ("No such file"), as OpenSSH's sftp-server does.
    sftp.status(reqid, code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : code === 'EACCES' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE);
  };
  const attrs = (st: import('node:fs').Stats) => ({
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  });
  sftp.on('OPEN', (reqid, filename, flags) => {
    if (flags !== OPEN_MODE.READ) return sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED);
    fsp.open(filename, fsc.O_RDONLY).then(
      (fh) => {
        const id = next++;
        handles.set(id, fh);
        const h = Buffer.alloc(4);
        h.writeUInt32BE(id, 0);
        sftp.handle(reqid, h);
      },
      (err) => fail(reqid, err),
    );
  });
  sftp.on('READ', (reqid, handle, offset, length) => {
    const fh = handleOf(handle);
    if (!fh) return sftp.status(reqid, STATUS_CODE.FAILURE);
    const buf = Buffer.alloc(length);
    fh.read(buf, 0, length, offset).then(
      ({ bytesRead }) => (bytesRead === 0 ? sftp.status(reqid, STATUS_CODE.EOF) : sftp.data(reqid, buf.subarray(0, bytesRead))),
      (err) => fail(reqid, err),
    );
  });
  sftp.on('FSTAT', (reqid, handle) => {
    const fh = handleOf(handle);
    if (!fh) return sftp.status(reqid, STATUS_CODE.FAILURE);
    fh.stat().then(
      (st) => sftp.attrs(reqid, attrs(st)),
      (err) => fail(reqid, err),
    );
  });
  const statPath = (reqid: number, path: string) =>
    fsp.stat(path).then(
      (st) => sftp.attrs(reqid, attrs(st)),
      (err) => fail(reqid, err),
    );
  sftp.on('STAT', statPath);
  sftp.on('LSTAT', statPath);
  sftp.on('CLOSE', (reqid, handle) => {
    const id = handle.length === 4 ? handle.readUInt32BE(0) : -1;
    const fh = handles.get(id);
    handles.delete(id);
    if (!fh) return sftp.status(reqid, STATUS_CODE.FAILURE);
    fh.close().then(
      () => sftp.status(reqid, STATUS_CODE.OK),
      (err) => fail(reqid, err),
    );
  });
  sftp.on('close', () => {
    for (const fh of handles.values()) void fh.close();
    handles.clear();
  });
}
