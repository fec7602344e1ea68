// Drives a program in a real terminal: a tmux server of its own (private socket, no user config),
// one session of a fixed size, keys sent with send-keys, the screen read with capture-pane.
// The program's exit status lands in a file, since the session's pane goes when it exits.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TMUX = '/usr/bin/tmux';

export function requireTmux(): void {
  const r = spawnSync(TMUX, ['-V'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`tmux is needed for the guided end-to-end test (apt-get install tmux; see lab/install-prereqs.sh): ${r.error?.message ?? r.stderr}`);
}

/** POSIX single quotes, for the shell command tmux runs. */
export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class TmuxSession {
  readonly socket: string;
  readonly name = 'guide';
  readonly #exitFile: string;
  readonly #log: string[] = [];

  /** Starts `argv` in `cwd` with `env`, in a `cols`×`rows` terminal; its exit code goes to `exitFile`. */
  constructor(options: { socket: string; argv: string[]; cwd: string; env: Record<string, string>; exitFile: string; cols?: number; rows?: number }) {
    this.socket = options.socket;
    this.#exitFile = options.exitFile;
    const envs = Object.entries(options.env).map(([k, v]) => `${k}=${sq(v)}`);
    const command = `cd ${sq(options.cwd)} && env ${envs.join(' ')} ${options.argv.map(sq).join(' ')}; echo $? > ${sq(options.exitFile)}`;
    this.#tmux(['-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(options.cols ?? 160), '-y', String(options.rows ?? 50), command]);
    // Keep the screen readable after the program exits, and a long history to search.
    this.#tmux(['set-option', '-t', this.name, 'remain-on-exit', 'on']);
    this.#tmux(['set-option', '-t', this.name, 'history-limit', '20000']);
  }

  #tmux(args: string[], check = true): string {
    const r = spawnSync(TMUX, ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (check && r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout ?? '';
  }

  /** The whole screen and its history, as text (no escape codes). */
  screen(): string {
    return this.#tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', this.name], false);
  }

  /**
   * The terminal's rows, history included, as drawn (a long line takes as many rows as it
   * wraps to); blank rows after the last written one are left out.
   */
  rows(): string[] {
    const rows = this.#tmux(['capture-pane', '-p', '-S', '-', '-t', this.name], false).split('\n');
    while (rows.length > 0 && rows.at(-1)?.trim() === '') rows.pop();
    return rows;
  }

  /** The last `n` non-blank lines on screen. */
  tail(n: number): string[] {
    return lastLines(this.screen(), n);
  }

  /** Sends keys (tmux key names: Enter, Space, C-c, or literal text with literal=true). */
  keys(keys: string[], literal = false): void {
    this.#log.push(keys.join(' '));
    this.#tmux(['send-keys', '-t', this.name, ...(literal ? ['-l'] : []), ...keys]);
  }

  /** Waits until `predicate(screen)` holds; on timeout the error shows the screen's end. */
  async waitFor(what: string, predicate: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (predicate(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; keys sent: [${this.#log.join(' | ')}]; screen ends with:\n${screen
            .split('\n')
            .filter((l) => l.trim() !== '')
            .slice(-40)
            .join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Waits for a question to be the one being asked: a line starting with `? ` and holding
   * `text` among the last lines (an answered question turns into `✔ …`).
   */
  async waitForPrompt(text: string, timeoutMs = 30_000): Promise<string> {
    return this.waitFor(`the prompt "${text}"`, (screen) => lastLines(screen, 12).some((l) => l.startsWith('? ') && l.includes(text)), timeoutMs);
  }

  /** Waits for the program to exit; returns its exit code. */
  async exitCode(timeoutMs = 30_000): Promise<number> {
    await this.waitFor('the program to exit', () => existsSync(this.#exitFile) && readFileSync(this.#exitFile, 'utf8').trim() !== '', timeoutMs);
    return Number(readFileSync(this.#exitFile, 'utf8').trim());
  }

  /** The program's exit code when it has exited, else null. */
  exitCodeNow(): number | null {
    if (!existsSync(this.#exitFile)) return null;
    const text = readFileSync(this.#exitFile, 'utf8').trim();
    return text === '' ? null : Number(text);
  }

  /** Kills this test's tmux server (its only session, and the program if still running). */
  kill(): void {
    this.#tmux(['kill-server'], false);
  }
}

function lastLines(screen: string, n: number): string[] {
  return screen
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n);
}

export function exitFileIn(dir: string, name: string): string {
  return join(dir, `${name}.exit-code`);
}
