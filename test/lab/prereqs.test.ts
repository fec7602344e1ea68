import { describe, expect, it } from 'vitest';
import { missingPrerequisites, which } from '../../src/lab/prereqs.js';

describe('lab prerequisites', () => {
  it('names each missing program with its Debian package and the install script', () => {
    const absent = new Set(['/usr/sbin/nginx', 'javac', 'keytool']);
    const msg = missingPrerequisites((p) => (absent.has(p) ? null : `/bin/${p}`), true)!;
    expect(msg).toContain('/usr/sbin/nginx (Debian package nginx), javac (Debian package openjdk-17-jdk-headless), keytool (Debian package openjdk-17-jdk-headless)');
    expect(msg).toMatch(/Install them with: sudo bash \S+\/lab\/install-prereqs\.sh {3}\(or: apt-get install -y nginx openjdk-17-jdk-headless\)/);
  });

  it('asks for sudo and useradd only when the lab runs as root', () => {
    const onlyRootTools = (p: string) => (['sudo', 'visudo', 'useradd'].includes(p) ? null : `/bin/${p}`);
    expect(missingPrerequisites(onlyRootTools, false)).toBeNull();
    expect(missingPrerequisites(onlyRootTools, true)).toContain('sudo (Debian package sudo)');
  });

  it('finds programs on PATH and in the sbin directories', () => {
    expect(which('sh')).toMatch(/\/sh$/);
    expect(which('definitely-not-a-program-xyz')).toBeNull();
  });
});
