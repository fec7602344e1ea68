// The templating API the planner, the executor and the validator call. Commands are rendered
// with every {{ value }} POSIX single-quoted; `| raw` is the one, visible, opt-out.
import type { Variable } from 'liquidjs';
import { ShellParseError, slotContexts, slotWord } from '../shell/context.js';
import { compile, liquidFor, renderCompiled, toTemplateError } from './engine.js';

export { TemplateError } from './engine.js';

export interface RenderOptions {
  /** Values not known until run time (facts, cause): when set, a reference to a variable whose
   *  root is in this set renders as the marker ⟨path⟩ (e.g. ⟨facts.mp_pid⟩), quoted like any value. */
  deferred?: ReadonlySet<string>;
}

/** Renders a command template. Every {{ value }} is POSIX single-quoted unless piped to `raw`.
 *  A list renders as one quoted word per element. Unknown variables are a TemplateError. */
export function renderCommand(template: string, scope: Record<string, unknown>, options?: RenderOptions): string {
  return renderCompiled('command', compile('command', template), scope, options?.deferred);
}

/** Same, without quoting (messages, confirm text, file paths, vars values). */
export function renderText(template: string, scope: Record<string, unknown>, options?: RenderOptions): string {
  return renderCompiled('text', compile('text', template), scope, options?.deferred);
}

/** One variable reference in a template, with its position (offset into the template text). */
export interface TemplateReference {
  /** Dotted path of the leading name segments, e.g. `facts.mp_pid`; stops at a computed index. */
  path: string;
  segments: string[];
  offset: number;
}

export interface TemplateAnalysis {
  references: TemplateReference[];
  /** Offsets of every `| raw` filter use. */
  rawOffsets: number[];
}

const analysisCache = new Map<string, TemplateAnalysis>();
const NO_REFERENCES: TemplateAnalysis = Object.freeze({ references: [], rawOffsets: [] });

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** Every variable a template expects from its scope, and every `raw`. Throws TemplateError on bad syntax. */
export function analyzeTemplate(template: string): TemplateAnalysis {
  const cached = analysisCache.get(template);
  if (cached) return cached;
  // Plain text references nothing: no Liquid engine for it (creating one initialises Intl,
  // a cost `remedy run` would pay before its first connection).
  if (!template.includes('{{') && !template.includes('{%')) return NO_REFERENCES;
  const liquid = liquidFor('text');
  let globals: Record<string, Variable[]>;
  try {
    globals = liquid.analyzeSync(liquid.parse(template), { partials: false }).globals;
  } catch (err) {
    throw toTemplateError(err);
  }
  const starts = lineStarts(template);
  const references: TemplateReference[] = [];
  const seen = new Set<string>();
  const add = (v: Variable): void => {
    const segments: string[] = [];
    for (const s of v.segments) {
      if (typeof s === 'string') segments.push(s);
      else if (typeof s === 'number') segments.push(String(s));
      else {
        add(s);
        break;
      }
    }
    const offset = (starts[v.location.row - 1] ?? 0) + v.location.col - 1;
    const key = `${segments.join('.')}@${offset}`;
    if (segments.length === 0 || seen.has(key)) return;
    seen.add(key);
    references.push({ path: segments.join('.'), segments, offset });
  };
  for (const vars of Object.values(globals)) for (const v of vars) add(v);
  references.sort((a, b) => a.offset - b.offset);
  const analysis: TemplateAnalysis = { references, rawOffsets: rawFilterOffsets(template) };
  analysisCache.set(template, analysis);
  return analysis;
}

/** Offsets of `| raw` inside outputs and tags (a filter, not the {% raw %} block tag). */
function rawFilterOffsets(template: string): number[] {
  const offsets: number[] = [];
  for (const m of template.matchAll(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g)) {
    for (const r of m[0].matchAll(/\|\s*raw\b/g)) offsets.push(m.index + r.index);
  }
  return offsets;
}

/** Variable paths a template references, e.g. ['apigee_root', 'facts.mp_pid'], and whether `raw` is used. */
export function templateReferences(template: string): { variables: string[]; usesRaw: boolean } {
  const analysis = analyzeTemplate(template);
  return { variables: [...new Set(analysis.references.map((r) => r.path))], usesRaw: analysis.rawOffsets.length > 0 };
}

/**
 * Values placed where no escaping can make them safe (backquotes, arithmetic, ${…}, a
 * here-document delimiter…), found without values: each {{ }} becomes a placeholder word and
 * {% %} tags are dropped, then the command is parsed as shell. Offsets are into the template.
 * A command that does not parse is reported only when it has no tags (tags may hide its shape).
 */
export function commandContextProblems(template: string): { offset: number; message: string }[] {
  if (!template.includes('{{')) return [];
  let skeleton = '';
  const outputs: number[] = [];
  // [skeleton offset, template offset] at the start of each copied stretch, to map parse errors back.
  const map: [number, number][] = [];
  let last = 0;
  let hasTags = false;
  for (const m of template.matchAll(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g)) {
    map.push([skeleton.length, last]);
    skeleton += template.slice(last, m.index);
    if (m[0].startsWith('{{')) {
      outputs.push(m.index);
      skeleton += slotWord(outputs.length - 1);
    } else {
      hasTags = true;
    }
    last = m.index + m[0].length;
  }
  map.push([skeleton.length, last]);
  skeleton += template.slice(last);
  if (outputs.length === 0) return [];
  let contexts;
  try {
    contexts = slotContexts(skeleton, outputs.length);
  } catch (err) {
    if (!(err instanceof ShellParseError) || hasTags) return [];
    let offset = 0;
    if (err.offset !== undefined) for (const [sk, tp] of map) if (sk <= err.offset) offset = tp + (err.offset - sk);
    return [
      {
        offset: Math.min(offset, template.length),
        message: `the command does not parse as shell (${err.message}), so its {{ }} values cannot be quoted for their context`,
      },
    ];
  }
  const problems: { offset: number; message: string }[] = [];
  contexts.forEach((c, i) => {
    if (c.kind === 'refused')
      problems.push({ offset: outputs[i] ?? 0, message: `a {{ }} value cannot be quoted safely ${c.why}: move it outside, or into "…" or '…'` });
  });
  return problems;
}
