/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The HTML report as a reader sees it: Debian's chromium, headless, renders the report of a
// resolved, an escalated and a partial run; every section is there, the timeline is drawn, and
// nothing is wider than a 1280 px window. No browser is downloaded: /usr/bin/chromium comes from
// lab/install-prereqs.sh, and the page is a local file (no network).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { buildReportModel, renderReport } from '../../src/journal/index.js';
import { PARTIAL_TICKET, backendEscalatedRun, partialRun, resolvedRun } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
let dir: string;
let browser: BrowserContext;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run lab/install-prereqs.sh as root (Debian package chromium)`);
  dir = mkdtempSync(join(tmpdir(), 'remedy-chromium-'));
  // A fresh profile per run, removed afterwards; Playwright stops the browser it started.
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    timeout: 90_000,
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const RUNS: [string, () => RunEvent[], string][] = [
  ['resolved', resolvedRun, 'resolved'],
  ['escalated', backendEscalatedRun, 'escalated'],
  ['partial', partialRun, 'failed'],
];

describe('the HTML report in Chromium', () => {
  for (const [name, events, outcome] of RUNS) {
    it(`${name} run: sections, the SVG timeline, no horizontal overflow at 1280 px`, async () => {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, renderReport(buildReportModel(events()), 'html'));
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      const seen = await page.evaluate(() => ({
        sections: [...document.querySelectorAll('h2')].map((h) => h.textContent),
        svgMarkers: document.querySelectorAll('svg.timeline circle').length,
        svgWidth: document.querySelector('svg.timeline')?.getBoundingClientRect().width ?? 0,
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        tooWide: [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
          .map((el) => el.tagName + (el.className ? `.${String(el.className)}` : ''))
          .slice(0, 5),
        badge: document.querySelector('#summary .st')?.textContent,
        links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
        decisions: [...document.querySelectorAll('#summary ul.decisions li')].map((li) => li.textContent ?? ''),
      }));
      await page.close();
      expect(seen.sections.slice(0, 4)).toEqual(['Summary', 'Phase timings', 'Evidence', 'Commands run']);
      for (const s of ['Run', 'Diagnosis', 'Timeline', 'Approvals', 'What changed', 'Artifacts', 'Final outcome']) expect(seen.sections).toContain(s);
      expect(seen.badge).toBe(outcome);
      expect(seen.svgMarkers).toBeGreaterThanOrEqual(3);
      expect(seen.svgWidth).toBeGreaterThan(600);
      expect(seen.tooWide).toEqual([]);
      expect(seen.scrollWidth).toBeLessThanOrEqual(seen.innerWidth);
      for (const href of seen.links) expect(href).toMatch(/^(#|outputs\/|artifacts\/)/);
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      // Who approved, with the comment (its long ticket link wraps: no overflow above).
      if (name === 'partial')
        expect(seen.decisions).toEqual([
          expect.stringMatching(
            new RegExp(
              `alice approved restart_mps on mp-1, mp-2 \\(answered by a person\\): "checked the diff with the platform team: ${PARTIAL_TICKET.replace(/[.]/g, '\\.')}"$`,
            ),
          ),
        ]);
      if (name === 'resolved')
        expect(seen.decisions).toEqual([
          expect.stringMatching(/alice approved restart_mp on mp-1 \(by --yes\)$/),
          expect.stringMatching(/alice approved edit_props on mp-1 \(by --yes\)$/),
        ]);
    });
  }
});
