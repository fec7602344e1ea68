// `fetch`: a file from each host into artifacts/<host>/ in the run directory, streamed with
// constant memory and verified by the transport, read as the become user when the step has one;
// secrets are masked in the copy.
import { basename, join, normalize } from 'node:path';
import { UnreachableError } from '../../errors.js';
import type { Host } from '../../inventory/types.js';
import { RUN_FILES } from '../../journal/run-dir.js';
import { becomeUser, renderHostText } from '../../plan/render-host.js';
import type { StepOf } from '../../plan/types.js';
import { wrapBecome, type WrappedCommand } from '../../shell/become.js';
import { shellQuote } from '../../shell/quote.js';
import { retrying } from '../attempts.js';
import { errorMessage, runtimeFor, type Engine } from '../context.js';
import { execAttempt } from '../host-exec.js';
import { safeName } from '../outputs.js';
import { redactFileInPlace } from '../redact-file.js';
import type { HostOutcome } from '../strategy.js';
import type { HostAction } from './action.js';
import { prepareCommands, previewCommands } from './commands.js';

export const fetchAction: HostAction<'fetch'> = {
  on: 'hosts',
  // The copy is not a shell command: the preview shows the plan's `fetch … → artifacts/…` line.
  prepare: async (e, step, hosts) => prepareCommands(e, step, hosts, undefined),
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p, undefined, (_host, planned) => planned),
  execute: fetchOnHost,
};

/** artifacts/<host>/<dest>: dest may name sub-directories, never leave the host's directory. */
export function artifactPath(host: string, dest: string): string {
  const parts = normalize(dest)
    .split(/[\\/]+/)
    .filter((p) => p !== '' && p !== '.' && p !== '..')
    .map(safeName);
  return [RUN_FILES.artifacts, safeName(host), ...(parts.length > 0 ? parts : ['file'])].join('/');
}

async function fetchOnHost(e: Engine, step: StepOf<'fetch'>, host: Host): Promise<HostOutcome> {
  const spec = step.templates.fetch;
  const runtime = runtimeFor(e, host.name, step);
  // When the current attempt started (each attempt's host-end has its own duration).
  const started = { at: e.clock.now() };
  /** The attempt's host-end; a failure is final unless the step's retries give it another attempt. */
  const end = (
    attempt: number,
    again: ((retryable: boolean) => boolean) | null,
    status: HostOutcome['status'],
    extra: { error?: string; reason?: string; artifacts?: { path: string; bytes: number; sha256: string }[] },
  ): HostOutcome => {
    const final = status !== 'failed' || again === null || !again(true);
    e.emitter.emit({
      type: 'host-end',
      step: step.id,
      host: host.name,
      status,
      attempt,
      exitCode: null,
      signal: null,
      durationMs: Math.round(e.clock.now() - started.at),
      final: final || undefined,
      ...extra,
    });
    return { host: host.name, status, exitCode: null, error: extra.error, verification: false };
  };
  let src: string;
  let dest: string;
  try {
    src = renderHostText(e.plan, step, host, spec.src, runtime);
    dest = spec.dest !== undefined ? renderHostText(e.plan, step, host, spec.dest, runtime) : basename(src);
  } catch (err) {
    e.emitter.emit({ type: 'host-start', step: step.id, host: host.name, attempt: 1, command: `fetch ${spec.src}` });
    return end(1, null, 'failed', { error: `cannot render the path: ${errorMessage(err)}` });
  }
  if (e.runDir === null) {
    e.emitter.emit({ type: 'host-start', step: step.id, host: host.name, attempt: 1, command: `fetch ${src}` });
    return end(1, null, 'skipped', { reason: 'no run directory to keep artifacts in' });
  }
  const runDir = e.runDir;
  // The check and the copy are one attempt; the step's retries re-run both.
  return retrying(e, { retries: step.retries, delayMs: step.delayMs }, async (attempt, again) => {
    started.at = e.clock.now();
    e.emitter.emit({ type: 'host-start', step: step.id, host: host.name, attempt, command: `fetch ${src}` });
    const user = becomeUser(step, host);
    const become = user === null ? null : { method: host.become.method, user, password: host.become.password };
    const wrap = (cmd: string): WrappedCommand => wrapBecome(cmd, become);
    // Distinguish "missing" (optional fetches are not failures) from "unreadable" before streaming.
    const probe = await execAttempt(e, {
      step,
      host,
      command: wrap(`test -e ${shellQuote(src)}`),
      attempt,
      timeoutMs: step.timeoutMs,
      announce: false,
    });
    if (probe.status === 'unreachable') return end(attempt, again, 'unreachable', { error: probe.error ?? 'unreachable' });
    if (probe.status !== 'ok') {
      // Nothing was fetched: say so (skipped), never ok, so no summary counts a file that is not there.
      if (probe.result?.exitCode === 1 && spec.optional) return end(attempt, again, 'skipped', { reason: `file absent: ${src} does not exist (optional)` });
      return end(attempt, again, 'failed', { error: probe.result?.exitCode === 1 ? `${src} does not exist` : `cannot check ${src}: ${probe.error ?? ''}` });
    }
    const rel = artifactPath(host.name, dest);
    try {
      const local = join(runDir, rel);
      const r = await e.transports.get(host).fetch(src, local, { readAs: user ?? undefined, becomeWrap: user === null ? undefined : wrap, signal: e.kill });
      // The copy is verified against the remote file above; only then are secrets masked in it.
      const masked = await redactFileInPlace(local, e.plan.secrets);
      if (masked)
        return end(attempt, again, 'ok', {
          artifacts: [{ path: rel, ...masked }],
          reason: `secrets masked in the copy (remote file: ${r.bytes} bytes, sha256 ${r.sha256})`,
        });
      return end(attempt, again, 'ok', { artifacts: [{ path: rel, bytes: r.bytes, sha256: r.sha256 }] });
    } catch (err) {
      if (err instanceof UnreachableError) {
        e.state.drop(host.name, 'unreachable');
        return end(attempt, again, 'unreachable', { error: err.message });
      }
      return end(attempt, again, 'failed', { error: `fetch ${src}: ${errorMessage(err)}` });
    }
  });
}
