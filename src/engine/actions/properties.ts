// `properties`: an edit of a key=value file on each host. Read the file (as the become user), edit
// it in memory keeping comments and order, and only when something changes: back it up next to
// itself (owner and mode kept), write the new text to a temp file in the same directory and mv it
// into place (atomic), then check the written bytes and run the verify. The diff shown for
// approval (and in a probe) is computed before, from the real file.
import { createHash } from 'node:crypto';
import type { Host } from '../../inventory/types.js';
import { becomeUser, renderHostText } from '../../plan/render-host.js';
import type { PlanStep, StepOf } from '../../plan/types.js';
import { wrapBecome, type WrappedCommand } from '../../shell/become.js';
import { shellQuote } from '../../shell/quote.js';
import { retrying } from '../attempts.js';
import { verifyChange } from '../checks.js';
import { errorMessage, hostOf, runtimeFor, type Engine } from '../context.js';
import { endAttempt, execAttempt, failedBeforeRunning, outcomeOf, type Attempt } from '../host-exec.js';
import type { HostOutcome } from '../strategy.js';
import { mapBounded } from '../timing.js';
import type { HostAction, PreparedChange } from './action.js';

export const propertiesAction: HostAction<'properties'> = {
  on: 'hosts',
  prepare: async (e, step, hosts) => {
    const redact = (s: string): string => e.emitter.redactor.redact(s);
    const prepared: PreparedChange = { wouldRun: [], unchanged: [], failedEarly: [], commands: [], diffs: {} };
    const previews = await mapBounded(hosts, e.forks, (name) => previewProperties(e, step, hostOf(e, name)));
    hosts.forEach((name, i) => {
      const p = previews[i];
      if (p === undefined) return;
      if (!isPreview(p)) prepared.failedEarly.push(p);
      else if (!p.changed) prepared.unchanged.push(name);
      else {
        prepared.wouldRun.push(name);
        prepared.diffs[name] = redact(p.diff);
        prepared.commands.push({ host: name, command: redact(`edit ${p.file}`) });
      }
    });
    return prepared;
  },
  preview: async (e, step, hosts, p) => {
    const redact = (s: string): string => e.emitter.redactor.redact(s);
    const previews = await mapBounded(hosts, e.forks, (name) => previewProperties(e, step, hostOf(e, name)));
    hosts.forEach((name, i) => {
      const r = previews[i];
      if (r && isPreview(r)) {
        if (!r.changed) p.unchanged.push(name);
        else p.diffs[name] = redact(r.diff);
        p.commands.push({ host: name, command: redact(`edit ${r.file}`) });
      } else {
        p.commands.push({ host: name, command: redact(`edit (cannot read the file: ${r?.error ?? 'unknown'})`) });
      }
    });
    p.hosts = p.hosts.filter((h) => !p.unchanged.includes(h));
  },
  execute: applyProperties,
};

interface PropertiesPreview {
  file: string;
  changed: boolean;
  diff: string;
}

function becomeWrap(step: PlanStep, host: Host, script: string): WrappedCommand {
  const user = becomeUser(step, host);
  return user === null ? { command: script } : wrapBecome(script, { method: host.become.method, user, password: host.become.password });
}

function renderEdit(
  e: Engine,
  step: StepOf<'properties'>,
  host: Host,
): { file: string; set: Record<string, string>; unset: string[]; owner: string; mode: string } {
  const p = step.templates.properties;
  const runtime = runtimeFor(e, host.name);
  const text = (t: string): string => renderHostText(e.plan, step, host, t, runtime);
  return {
    file: text(p.file),
    set: Object.fromEntries(Object.entries(p.set).map(([k, v]) => [k, text(v)])),
    unset: p.unset,
    // `owner: "{{ apigee_user }}:{{ apigee_user }}"`: the service user is a host var.
    owner: p.owner === undefined ? '' : text(p.owner),
    mode: p.mode ?? '',
  };
}

async function readRemote(e: Engine, step: PlanStep, host: Host, file: string, announce: boolean, attempt = 1) {
  return execAttempt(e, {
    step,
    host,
    command: becomeWrap(step, host, `cat -- ${shellQuote(file)}`),
    display: `edit ${file}`,
    attempt,
    timeoutMs: step.timeoutMs,
    announce,
    label: 'read',
  });
}

/** Before approval: what the edit would change on this host (read-only). */
async function previewProperties(e: Engine, step: StepOf<'properties'>, host: Host): Promise<PropertiesPreview | HostOutcome> {
  let edit;
  try {
    edit = renderEdit(e, step, host);
  } catch (err) {
    return { host: host.name, status: 'failed', exitCode: null, error: `cannot render the edit: ${errorMessage(err)}`, verification: false };
  }
  const read = await readRemote(e, step, host, edit.file, false);
  if (read.status !== 'ok' || !read.result) {
    return { ...outcomeOf(host.name, read), error: `cannot read ${edit.file}: ${read.error ?? ''} ${read.result?.stderr.trim() ?? ''}`.trim() };
  }
  // The diff library loads only for runs that edit properties (start-up time).
  const { editProperties } = await import('../../properties/edit.js');
  const result = editProperties(read.result.stdout, { set: edit.set, unset: edit.unset }, edit.file);
  return { file: edit.file, changed: result.changed, diff: result.diff };
}

function isPreview(x: PropertiesPreview | HostOutcome): x is PropertiesPreview {
  return 'changed' in x;
}

/** Applies the edit (re-reading the file first: it may have changed since the preview). */
async function applyProperties(e: Engine, step: StepOf<'properties'>, host: Host): Promise<HostOutcome> {
  const p = step.templates.properties;
  let edit;
  try {
    edit = renderEdit(e, step, host);
  } catch (err) {
    return failedBeforeRunning(e, step, host.name, `cannot render the edit: ${errorMessage(err)}`);
  }
  // The whole edit (read, compare, write) is one attempt; the step's retries re-run it from the read.
  const written: { write: Attempt | null } = { write: null };
  const verify = step.templates.verify;
  const tried = await retrying(e, { retries: step.retries, delayMs: step.delayMs }, async (attempt, again) => {
    // The file's content is not kept in the run dir (it may hold credentials); the diff is.
    e.emitter.emit({ type: 'host-start', step: step.id, host: host.name, attempt, command: `edit ${edit.file}` });
    const read = await readRemote(e, step, host, edit.file, false, attempt);
    if (read.status !== 'ok' || !read.result) {
      const error = `cannot read ${edit.file}: ${read.error ?? ''} ${read.result?.stderr.trim() ?? ''}`.trim();
      endAttempt(e, step, host.name, read, { final: !again(read.status !== 'unreachable'), error });
      return { ...outcomeOf(host.name, read), error };
    }
    // The diff library loads only for runs that edit properties (start-up time).
    const { editProperties } = await import('../../properties/edit.js');
    const result = editProperties(read.result.stdout, { set: edit.set, unset: edit.unset }, edit.file);
    if (!result.changed) {
      endAttempt(e, step, host.name, read, { status: 'ok', final: true, reason: 'already as wanted; file not written' });
      return outcomeOf(host.name, read, 'ok');
    }
    const backup = p?.backup ? `${edit.file}.remedy-${e.runId}.bak` : '';
    const script = writeScript(edit.file, backup, edit.owner, edit.mode);
    const write = await execAttempt(e, {
      step,
      host,
      command: becomeWrap(step, host, script),
      stdin: result.text,
      attempt,
      timeoutMs: step.timeoutMs,
      announce: false,
    });
    const expected = createHash('sha256').update(result.text).digest('hex');
    let error: string | undefined;
    if (write.status !== 'ok' || !write.result) error = `cannot write ${edit.file}: ${write.error ?? ''} ${write.result?.stderr.trim() ?? ''}`.trim();
    else if (!write.result.stdout.includes(expected)) error = `${edit.file} does not hold what was written (sha256 differs)`;
    if (error !== undefined) {
      const status = write.status === 'ok' ? 'failed' : write.status;
      endAttempt(e, step, host.name, write, { status, final: !again(status !== 'unreachable'), error, diff: result.diff });
      return { ...outcomeOf(host.name, write, status), error };
    }
    e.state.changed = true;
    endAttempt(
      e,
      step,
      host.name,
      { ...write, durationMs: read.durationMs + write.durationMs },
      { status: 'changed', final: !verify, diff: result.diff, reason: backup ? `backup: ${backup}` : undefined },
    );
    written.write = write;
    return outcomeOf(host.name, write, 'changed');
  });
  const write = written.write;
  if (tried.interrupted || tried.status !== 'changed' || write === null) return tried;
  return verifyChange(e, step, host, verify, write);
}

/**
 * The new content arrives on stdin. `cp -p` keeps the backup's owner and mode; the temp file
 * takes the original's owner and mode, then the requested ones; `mv` replaces atomically.
 */
export function writeScript(file: string, backup: string, owner: string, mode: string): string {
  return [
    'set -e',
    `f=${shellQuote(file)}; b=${shellQuote(backup)}; o=${shellQuote(owner)}; m=${shellQuote(mode)}`,
    'if [ -n "$b" ]; then cp -p -- "$f" "$b"; fi',
    't=$(mktemp "$f.remedy-XXXXXX")',
    'trap \'rm -f -- "$t"\' EXIT',
    'cat > "$t"',
    'chown --reference="$f" -- "$t" 2>/dev/null || true',
    'chmod --reference="$f" -- "$t"',
    'if [ -n "$o" ]; then chown -- "$o" "$t"; fi',
    'if [ -n "$m" ]; then chmod -- "$m" "$t"; fi',
    'mv -f -- "$t" "$f"',
    'trap - EXIT',
    'sha256sum -- "$f"',
  ].join('\n');
}
