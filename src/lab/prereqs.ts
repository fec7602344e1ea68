// Checks, before anything starts, that the programs the lab drives are installed, and names the
// Debian package for each one that is missing.
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RemedyError } from '../errors.js';
import { labAsset } from './assets.js';

interface Requirement {
  program: string;
  pkg: string;
  /** Only when the lab runs as root (users, sudo). */
  rootOnly?: boolean;
}

const REQUIREMENTS: Requirement[] = [
  { program: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { program: 'ssh-keygen', pkg: 'openssh-client' },
  { program: '/usr/sbin/nginx', pkg: 'nginx' },
  { program: 'java', pkg: 'openjdk-17-jdk-headless' },
  { program: 'javac', pkg: 'openjdk-17-jdk-headless' },
  { program: 'keytool', pkg: 'openjdk-17-jdk-headless' },
  { program: 'jstack', pkg: 'openjdk-17-jdk-headless' },
  { program: 'curl', pkg: 'curl' },
  { program: 'setsid', pkg: 'util-linux' },
  { program: 'setpriv', pkg: 'util-linux' },
  { program: 'ps', pkg: 'procps' },
  { program: 'ss', pkg: 'iproute2' },
  { program: 'sudo', pkg: 'sudo', rootOnly: true },
  { program: 'visudo', pkg: 'sudo', rootOnly: true },
  { program: 'useradd', pkg: 'passwd', rootOnly: true },
];

/** Absolute path of a program (searching PATH plus the sbin directories), or null. */
export function which(program: string): string | null {
  const candidates = program.startsWith('/')
    ? [program]
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return null;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** One message listing every missing program with its package and the install script, or null. */
export function missingPrerequisites(find: (program: string) => string | null, root: boolean): string | null {
  const missing = REQUIREMENTS.filter((r) => (!r.rootOnly || root) && find(r.program) === null);
  if (missing.length === 0) return null;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  return (
    `remedy lab needs programs that are not installed: ${missing.map((m) => `${m.program} (Debian package ${m.pkg})`).join(', ')}.\n` +
    `Install them with: sudo bash ${labAsset('install-prereqs.sh')}   (or: apt-get install -y ${pkgs.join(' ')})`
  );
}

export function checkPrerequisites(): void {
  const problem = missingPrerequisites(which, isRoot());
  if (problem) throw new RemedyError(problem);
}

/** The real java binary (through the alternatives symlinks), so pid files and ps show one path. */
export function javaBinary(): string {
  const java = which('java');
  if (!java) throw new RemedyError('java not found (Debian package openjdk-17-jdk-headless)');
  return realpathSync(java);
}
