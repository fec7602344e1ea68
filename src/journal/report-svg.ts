// The phase timeline as an inline SVG picture, drawn by the report itself (no script, no external
// asset): markers at their true time on one axis, labels in evenly spaced columns below with a
// leader line each, so phases seconds apart in a run of minutes stay readable.
import { formatDuration } from '../ui/format.js';
import type { Phase } from './report-handover.js';

const W = 960;
const AXIS_Y = 34;
const LABEL_Y = 92;
const PAD = 70;

export function phaseTimelineSvg(phases: readonly Phase[], esc: (s: unknown) => string): string {
  const reached = phases.filter((p) => p.atMs !== null);
  const total = Math.max(1, ...reached.map((p) => p.atMs as number));
  const x = (ms: number) => PAD + ((W - 2 * PAD) * ms) / total;
  const column = (i: number) => PAD + ((W - 2 * PAD) * i) / Math.max(1, phases.length - 1);
  const parts: string[] = [];
  parts.push(`<line x1="${PAD}" y1="${AXIS_Y}" x2="${W - PAD}" y2="${AXIS_Y}" stroke="#d0d7de" stroke-width="4" stroke-linecap="round"/>`);
  const last = reached.at(-1);
  if (last)
    parts.push(
      `<line x1="${PAD}" y1="${AXIS_Y}" x2="${x(last.atMs as number).toFixed(1)}" y2="${AXIS_Y}" stroke="#2da44e" stroke-width="4" stroke-linecap="round"/>`,
    );
  phases.forEach((p, i) => {
    const lx = column(i);
    const anchor = i === 0 ? 'start' : i === phases.length - 1 ? 'end' : 'middle';
    const tx = i === 0 ? lx - 8 : i === phases.length - 1 ? lx + 8 : lx;
    if (p.atMs !== null) {
      const px = x(p.atMs);
      parts.push(`<line x1="${px.toFixed(1)}" y1="${AXIS_Y + 8}" x2="${lx.toFixed(1)}" y2="${LABEL_Y - 18}" stroke="#8c959f" stroke-width="1"/>`);
      parts.push(
        `<circle cx="${px.toFixed(1)}" cy="${AXIS_Y}" r="7" fill="#1a7f37" stroke="#fff" stroke-width="2"><title>${esc(`${p.label}: ${p.time ?? ''}`)}</title></circle>`,
      );
      parts.push(`<text x="${tx.toFixed(1)}" y="${LABEL_Y}" text-anchor="${anchor}" font-weight="600">${esc(p.label)}</text>`);
      parts.push(`<text x="${tx.toFixed(1)}" y="${LABEL_Y + 18}" text-anchor="${anchor}" fill="#57606a">+${esc(formatDuration(p.atMs))}</text>`);
    } else {
      parts.push(`<text x="${tx.toFixed(1)}" y="${LABEL_Y}" text-anchor="${anchor}" fill="#8c959f">${esc(p.label)}</text>`);
      // Why it was not reached is in the table below: a long note here would run into its neighbours.
      parts.push(
        `<text x="${tx.toFixed(1)}" y="${LABEL_Y + 18}" text-anchor="${anchor}" fill="#8c959f">not reached<title>${esc(p.note ?? 'not reached')}</title></text>`,
      );
    }
  });
  const summary = phases.map((p) => `${p.label} ${p.atMs === null ? `(${p.note ?? 'not reached'})` : `+${formatDuration(p.atMs)}`}`).join(', ');
  return `<svg class="timeline" role="img" aria-label="${esc(`Phase timeline: ${summary}`)}" viewBox="0 0 ${W} 124" width="100%" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="13">${parts.join('')}</svg>`;
}
