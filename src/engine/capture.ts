// Turning a command's output into named facts (pyinfra's "facts": a command plus a parser).
// Pure: text in, values out. A capture that cannot be read falls back to its default (or null)
// and says why, rather than failing a diagnosis step over an unexpected output.
import type { CaptureSpec } from '../runbook/schema.js';

export interface CommandOutput {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface CaptureResult {
  facts: Record<string, unknown>;
  /** One message per capture that fell back to its default. */
  problems: string[];
}

class CaptureProblem extends Error {}

export function applyCaptures(specs: Record<string, CaptureSpec>, output: CommandOutput): CaptureResult {
  const facts: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    try {
      facts[name] = captureOne(spec, output);
    } catch (err) {
      if (!(err instanceof CaptureProblem)) throw err;
      const fallback = typeof spec === 'object' && spec.default !== undefined ? spec.default : null;
      facts[name] = fallback;
      problems.push(`capture ${name}: ${err.message}; using ${JSON.stringify(fallback)}`);
    }
  }
  return { facts, problems };
}

function captureOne(spec: CaptureSpec, output: CommandOutput): unknown {
  if (typeof spec === 'string') return spec === 'exit_code' ? output.exitCode : source(output, spec);
  const from = spec.from ?? 'stdout';
  if (from === 'exit_code' && spec.regex === undefined && spec.json !== true) {
    return spec.as === undefined ? output.exitCode : convert(String(output.exitCode ?? ''), spec.as);
  }
  const text = from === 'exit_code' ? String(output.exitCode ?? '') : source(output, from);
  if (spec.regex !== undefined) {
    const re = compileRegex(spec.regex, spec.all === true);
    if (spec.all === true) {
      return [...text.matchAll(re)].map((m) => finish(pickGroup(m, spec.group), spec));
    }
    const m = re.exec(text);
    if (m === null) {
      if (spec.default !== undefined) return spec.default;
      throw new CaptureProblem(`/${spec.regex}/ did not match`);
    }
    return finish(pickGroup(m, spec.group), spec);
  }
  return finish(text, spec);
}

function source(output: CommandOutput, from: 'stdout' | 'stderr'): string {
  return (from === 'stdout' ? output.stdout : output.stderr).trim();
}

/** Multiline by default: output is read line-wise by people writing runbooks (`^PID (\d+)$`). */
function compileRegex(pattern: string, global: boolean): RegExp {
  try {
    return new RegExp(pattern, global ? 'gm' : 'm');
  } catch (err) {
    throw new CaptureProblem(`invalid regex: ${(err as Error).message}`);
  }
}

function pickGroup(m: RegExpMatchArray, group: number | string | undefined): string {
  if (typeof group === 'string') return m.groups?.[group] ?? '';
  if (typeof group === 'number') return m[group] ?? '';
  return (m.length > 1 ? m[1] : m[0]) ?? '';
}

function finish(text: string, spec: Exclude<CaptureSpec, string>): unknown {
  const trimmed = text.trim();
  if (spec.json === true) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      throw new CaptureProblem('output is not valid JSON');
    }
  }
  return spec.as === undefined ? trimmed : convert(trimmed, spec.as);
}

function convert(text: string, as: NonNullable<Exclude<CaptureSpec, string>['as']>): unknown {
  switch (as) {
    case 'string':
      return text;
    case 'integer':
      if (!/^[-+]?\d+$/.test(text)) throw new CaptureProblem(`"${clip(text)}" is not an integer`);
      return Number.parseInt(text, 10);
    case 'number': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new CaptureProblem(`"${clip(text)}" is not a number`);
      return n;
    }
    case 'boolean': {
      const v = text.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(v)) return true;
      if (['false', 'no', 'off', '0', ''].includes(v)) return false;
      throw new CaptureProblem(`"${clip(text)}" is not a boolean`);
    }
    case 'lines':
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
