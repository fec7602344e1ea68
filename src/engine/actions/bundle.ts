// `bundle`: packs the artifacts the run fetched into one .tar.gz under artifacts/ with a manifest
// (the archive format is bundle-archive.ts). Runs once on the controller and changes no host;
// evidence gathering never fails the run it documents.
import { join } from 'node:path';
import { RUN_FILES } from '../../journal/run-dir.js';
import { renderHostText } from '../../plan/render-host.js';
import type { StepOf } from '../../plan/types.js';
import { errorMessage, runtimeFor, type Engine } from '../context.js';
import { holdsOrSkip } from '../controller-step.js';
import { zeroCounts, type StepFlow } from '../flow.js';
import type { ControllerAction } from './action.js';
import { conditionNote } from './commands.js';

export const bundleAction: ControllerAction<'bundle'> = {
  on: 'controller',
  preview: (e, step, p) => {
    conditionNote(e, step, p);
    p.commands.push({ host: 'controller', command: e.emitter.redactor.redact(`bundle artifacts into artifacts/${step.templates.bundle.name}`) });
  },
  execute: runBundle,
};

async function runBundle(e: Engine, step: StepOf<'bundle'>, nextId: string | null): Promise<StepFlow> {
  const spec = step.templates.bundle;
  if (!holdsOrSkip(e, step)) return { kind: 'next' };
  e.emitter.emit({ type: 'step-start', step: step.id, name: step.name, kind: step.kind, mutates: false, hosts: [] });
  const started = e.clock.now();
  const end = (status: 'ok' | 'skipped' | 'failed'): void => {
    e.emitter.emit({ type: 'step-end', step: step.id, status, durationMs: Math.round(e.clock.now() - started), counts: zeroCounts(), next: nextId });
  };
  if (e.runDir === null) {
    e.emitter.emit({ type: 'warning', step: step.id, message: 'no run directory: nothing to bundle' });
    end('skipped');
    return { kind: 'next' };
  }
  let name: string;
  try {
    name = renderHostText(e.plan, step, null, spec.name, runtimeFor(e, null)).trim();
  } catch (err) {
    e.emitter.emit({ type: 'warning', step: step.id, message: `bundle name: ${errorMessage(err)}` });
    end('failed');
    return { kind: 'next' };
  }
  if (!/^[^/\\]+\.tar\.gz$/.test(name) || name.startsWith('.')) {
    e.emitter.emit({
      type: 'warning',
      step: step.id,
      message: `bundle name ${JSON.stringify(name)} is not a plain file name ending in .tar.gz; nothing was written`,
    });
    end('failed');
    return { kind: 'next' };
  }
  try {
    // tar-stream and picomatch load only for runs that pack a bundle (start-up time).
    const { writeBundle } = await import('../bundle-archive.js');
    const r = await writeBundle(join(e.runDir, RUN_FILES.artifacts), name, spec.files, { runId: e.runId, runbook: e.plan.runbook });
    e.emitter.emit({ type: 'bundle', step: step.id, path: `${RUN_FILES.artifacts}/${name}`, bytes: r.bytes, sha256: r.sha256, files: r.manifest.files.length });
    end('ok');
  } catch (err) {
    // Evidence gathering never fails the run it documents: say so and go on.
    e.emitter.emit({ type: 'warning', step: step.id, message: `the bundle could not be written: ${errorMessage(err)}` });
    end('failed');
  }
  return { kind: 'next' };
}
