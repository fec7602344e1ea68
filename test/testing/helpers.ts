// Small test files written to a temporary directory, with a tiny runbook and inventory beside
// them, so the tester's own behaviour is checked on inputs whose answers are obvious.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MINI_RUNBOOK = `name: mini
summary: Check a service, restart it where it is down.
params:
  port:
    type: integer
    default: 8080
steps:
  - id: check
    name: Is the service up
    hosts: web
    run: curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:{{ port }}/
    capture:
      code: { from: stdout, regex: '(\\d+)', as: integer, default: 0 }
  - id: decide
    name: Decide
    decide:
      causes:
        - cause: down
          when: hosts('web').exists(h, h.facts.code != 200)
      default: none
  - id: restart
    name: Restart where down
    hosts: web
    when: cause == "down" && facts.code != 200
    mutates: true
    retries: 1
    delay: 5s
    run: systemctl restart web
    verify:
      run: curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:{{ port }}/
      until: result.stdout == "200"
      retries: 2
      delay: 3s
  - id: fixed
    name: Fixed
    when: cause == "down"
    outcome:
      status: resolved
      message: The service is back on every host.
  - id: fine
    name: Fine
    when: cause == "none"
    outcome:
      status: nothing-to-do
      message: Every host answers.
`;

export const MINI_INVENTORY = `all:
  children:
    web:
      children:
        east:
          hosts:
            w1:
            w2:
        west:
          hosts:
            w3:
`;

const made: string[] = [];

/** Removes the directories miniProject made (call from afterAll). */
export function removeMiniProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A directory with mini.yaml, inventory.yaml and the given test files. */
export function miniProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-testing-'));
  made.push(dir);
  writeFileSync(join(dir, 'mini.yaml'), MINI_RUNBOOK);
  writeFileSync(join(dir, 'inventory.yaml'), MINI_INVENTORY);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
