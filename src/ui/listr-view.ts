// The live TTY view: listr2's default renderer as a pure view over events. Each step (each rolling
// batch of it) is one listr2 run — the step as a task, its hosts as concurrent subtasks showing
// their current output line, status and duration — whose promises resolve when the events say so
// (host done, step-end). The executor never waits for the view.
//
// Steps run one after the other, so their listr2 runs are queued: a run starts when its step has
// something to show (a host starts, the step ends, or the next step begins) and ends at its
// step-end. When no run is live, the terminal belongs to no one: lines (run start, run-level
// warnings, the end) are written plainly.
//
// Prompts (guided mode): call `await view.pause()` before prompting and `view.resume()` after.
// pause() ends the live run (its last frame stays on screen) and holds every later run until
// resume(); events keep updating the model meanwhile. A step interrupted by a pause shows again,
// marked "continued", when its next event arrives (e.g. a retry after the failure prompt). The
// executor asks for approval before a step's hosts start, so that prompt usually finds no live run.
//
// listr2 never owns signals here (registerSignalListeners: false): the CLI handles SIGINT.
import { DefaultRenderer, Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
import type { EventSink, RunEvent } from '../engine/events.js';
import { colors, type Colors } from './format.js';
import {
  applyHostEnd,
  applyHostStart,
  continueStepView,
  hostFailure,
  hostTitle,
  newHostView,
  newStepView,
  stepTitle,
  type HostView,
  type StepView,
  type TaskHandle,
} from './listr-model.js';
import { formatPlainLine } from './plain.js';

/** The default renderer, told that the stream we give it is a terminal (we decide that, not process.stdout). */
class TerminalRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

export interface ListrViewOptions {
  /** Where the view draws (default process.stdout). */
  stream?: NodeJS.WriteStream | undefined;
  color?: boolean | undefined;
  /** 'test': listr2's test renderer (JSON lines), for tests. */
  renderer?: 'default' | 'test' | undefined;
  /** No spinner timer: redraw only on changes (tests, slow terminals). */
  lazy?: boolean | undefined;
  /** Live output lines are shown at most this often per host (default 100 ms): each one redraws. */
  outputIntervalMs?: number | undefined;
  /** Steps with more hosts than this draw only running and failed ones (default: terminal rows − 8, at least 10). */
  maxListedHosts?: number | undefined;
  /** Lock acquired/released lines too (default: only refused or broken locks, which need a person). */
  verbose?: boolean | undefined;
}

type Job = () => Promise<void>;

export class ListrView implements EventSink {
  readonly #stream: NodeJS.WriteStream;
  readonly #c: Colors;
  readonly #options: ListrViewOptions;
  readonly #processOutput: ProcessOutput;
  /** The segment of the most recent step-start (or continuation). */
  #current: StepView | null = null;
  readonly #queue: Job[] = [];
  /** Jobs queued while paused. */
  readonly #held: Job[] = [];
  #pumping: Promise<void> | null = null;
  #paused = false;
  #closed = false;
  /** Hosts with an output line not yet shown (throttled). */
  readonly #dirty = new Set<HostView>();
  #flushTimer: NodeJS.Timeout | null = null;
  /** Steps skipped since the last thing shown: one line for all of them, not one each. */
  #skipped: Extract<RunEvent, { type: 'step-skip' }>[] = [];

  constructor(options: ListrViewOptions = {}) {
    this.#options = options;
    this.#stream = options.stream ?? process.stdout;
    this.#c = colors(options.color === true);
    this.#processOutput = new ProcessOutput(this.#stream, this.#stream === process.stdout ? process.stderr : this.#stream);
  }

  write(ev: RunEvent): void {
    if (this.#closed) return;
    if (ev.type === 'step-skip') {
      this.#skipped.push(ev);
      return;
    }
    if (ev.type === 'lock' && !this.#options.verbose && (ev.action === 'acquired' || ev.action === 'released')) return;
    if (ev.type !== 'host-output' && ev.type !== 'warning') this.#flushSkipped();
    switch (ev.type) {
      case 'step-start': {
        this.#closeCurrent();
        this.#current = newStepView(ev);
        return;
      }
      case 'host-start': {
        const seg = this.#segmentFor(ev.step, ev.host);
        if (!seg) return;
        const h = seg.hosts.get(ev.host) as HostView;
        applyHostStart(h, ev);
        this.#retitle(seg, h);
        this.#start(seg);
        return;
      }
      case 'host-output': {
        const seg = this.#segmentFor(ev.step, ev.host);
        const h = seg?.hosts.get(ev.host);
        if (!seg || !h) return;
        if (ev.line.trim() === '') return;
        h.line = ev.line;
        this.#dirty.add(h);
        this.#scheduleFlush();
        this.#start(seg);
        return;
      }
      case 'host-end': {
        const seg = this.#segmentFor(ev.step, ev.host);
        if (!seg) return;
        const h = seg.hosts.get(ev.host) as HostView;
        if (applyHostEnd(h, ev)) h.done.resolve();
        else this.#retitle(seg, h);
        if (seg.compact && seg.task) seg.task.title = this.#title(seg);
        return;
      }
      case 'step-end': {
        const seg = this.#current?.step === ev.step && this.#current.state !== 'closed' ? this.#current : null;
        if (!seg) {
          this.#line(ev);
          return;
        }
        seg.end = ev;
        if (seg.task) seg.task.title = this.#title(seg);
        this.#start(seg);
        this.#closeCurrent();
        return;
      }
      case 'approval':
      case 'decision':
      case 'outcome':
      case 'bundle':
      case 'rollback':
      case 'warning': {
        // Said about the step on screen: shown under it; otherwise a line of its own.
        const seg = 'step' in ev && ev.step !== undefined && this.#current?.step === ev.step && this.#current.state !== 'closed' ? this.#current : null;
        // Under its step, a decision is its cause only, in the step's title: the decision panel
        // showed the condition.
        if (seg && ev.type === 'decision') {
          seg.cause = `${this.#c.bold('cause')} ${ev.cause}${ev.override ? this.#c.yellow(` (overridden by ${ev.override.operator}, was ${ev.override.from})`) : ''}`;
          if (seg.task) seg.task.title = this.#title(seg);
          return;
        }
        const text = formatPlainLine(ev, this.#c);
        if (seg && text !== null) {
          seg.notes.push(text.trim());
          if (seg.task) seg.task.output = text.trim();
        } else this.#line(ev);
        return;
      }
      case 'run-end':
        this.#closeCurrent();
        this.#line(ev);
        return;
      default:
        // run-start, step-skip, lock and anything newer: a plain line between step views.
        this.#line(ev);
    }
  }

  /**
   * Releases the terminal for a prompt: ends the live step view (its last frame stays) and holds
   * later ones. Resolves once nothing draws any more. Call resume() when the prompt is answered.
   */
  async pause(): Promise<void> {
    this.#paused = true;
    // What was already queued still draws (in its state now, ended), so the prompt appears
    // under the step it is about; anything queued from now on waits for resume().
    const seg = this.#current;
    if (seg && (seg.state === 'queued' || seg.state === 'live')) this.#settle(seg);
    await this.#pumping;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#queue.push(...this.#held.splice(0));
    this.#pump();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Ends every step view and waits until the terminal is released. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushSkipped();
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#closeCurrent();
    this.#closed = true;
    this.resume();
    await this.idle();
  }

  /** Resolves when every queued view has been drawn and ended (tests). */
  async idle(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  // -------------------------------------------------------------------------------------------

  /** The segment an event about (step, host) belongs to, continuing the step after a pause. */
  #segmentFor(step: string, host: string): StepView | null {
    let seg = this.#current;
    if (!seg || seg.step !== step) return null;
    if (seg.state === 'closed') {
      const next = continueStepView(seg);
      this.#current = seg = next;
    }
    if (!seg.hosts.has(host)) {
      // Hosts skipped at the first batch are not in the step-start's list; carried hosts keep their state.
      seg.hosts.set(host, newHostView(host));
    }
    return seg;
  }

  /**
   * A step's title, fitted to one terminal row: listr2 wraps at the columns of process.stdout
   * (80 when it has none), less 2; the icon takes 2 more, and measured in tmux a title of
   * exactly the rest still wraps, so 2 spare.
   */
  #title(seg: StepView): string {
    const columns = process.stdout.columns ?? 80;
    return stepTitle(seg, this.#c, columns >= 40 ? columns - 6 : undefined);
  }

  #retitle(seg: StepView, h: HostView): void {
    if (h.task) h.task.title = hostTitle(h, this.#c, seg.compact);
    if (seg.compact && seg.task) seg.task.title = this.#title(seg);
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      for (const h of this.#dirty) if (h.task && h.phase === 'running') h.task.output = h.line;
      this.#dirty.clear();
    }, this.#options.outputIntervalMs ?? 100);
    this.#flushTimer.unref();
  }

  #closeCurrent(): void {
    const seg = this.#current;
    if (!seg || seg.state === 'closed') return;
    // A step with nothing drawn yet (all hosts skipped, a controller step) still gets its frame.
    if (seg.state === 'pending') this.#start(seg);
    this.#settle(seg);
  }

  /** Ends a segment's listr2 run: its hosts and the step resolve as they stand. */
  #settle(seg: StepView): void {
    for (const h of seg.hosts.values()) h.done.resolve();
    seg.done.resolve();
    // A queued segment still draws once, already ended.
    seg.state = 'closed';
  }

  #start(seg: StepView): void {
    if (seg.state !== 'pending') return;
    seg.state = 'queued';
    this.#enqueue(() => this.#run(seg));
  }

  /** `skipped: 14 steps of other causes`: the journal and the report list each with its reason. */
  #flushSkipped(): void {
    if (this.#skipped.length === 0) return;
    const skipped = this.#skipped.splice(0);
    const causes = skipped.every((e) => /\bcause\b/.test(e.reason));
    // One row: the step ids that fit in the terminal, the rest counted (the journal and the
    // report name each, with its reason).
    const lead = `skipped: ${skipped.length} step${skipped.length === 1 ? '' : 's'} ${causes ? 'of other causes' : 'whose condition is false'}`;
    const ids = skipped.map((e) => e.step);
    const width = process.stdout.columns ?? 80;
    let shown = ids.length;
    const line = (n: number): string => `${lead} (${ids.slice(0, n).join(', ')}${n < ids.length ? `${n > 0 ? ', ' : ''}+${ids.length - n} more` : ''})`;
    while (shown > 0 && line(shown).length > width - 2) shown--;
    const text = this.#c.dim(line(shown));
    this.#enqueue(async () => {
      this.#stream.write(`${text}\n`);
    });
  }

  #line(ev: RunEvent): void {
    const text = formatPlainLine(ev, this.#c);
    if (text === null) return;
    this.#enqueue(async () => {
      this.#stream.write(`${text}\n`);
    });
  }

  #enqueue(job: Job): void {
    (this.#paused ? this.#held : this.#queue).push(job);
    this.#pump();
  }

  #pump(): void {
    if (this.#pumping || this.#queue.length === 0) return;
    const drain = async (): Promise<void> => {
      while (this.#queue.length > 0) {
        const job = this.#queue.shift() as Job;
        try {
          await job();
        } catch (err) {
          // The view must never take the run down; say it once, plainly.
          this.#stream.write(`remedy: live view error: ${(err as Error).message}\n`);
        }
      }
    };
    // Reset in finally (after the assignment below), and pick up jobs queued in between.
    this.#pumping = drain().finally(() => {
      this.#pumping = null;
      this.#pump();
    });
  }

  async #run(seg: StepView): Promise<void> {
    if (seg.state !== 'closed') seg.state = 'live';
    try {
      await this.#listr(seg).run();
    } finally {
      seg.state = 'closed';
    }
  }

  #listr(seg: StepView): Listr<object, typeof TerminalRenderer | 'test', 'simple'> {
    const c = this.#c;
    const rows = this.#stream.rows ?? 40;
    seg.compact = seg.hosts.size > (this.#options.maxListedHosts ?? Math.max(10, rows - 8));
    const hostTasks: ListrTask<object, typeof TerminalRenderer>[] = [...seg.hosts.values()].map((h) => ({
      title: hostTitle(h, c, seg.compact),
      task: async (_ctx, wrapper): Promise<void> => {
        const task = wrapper as unknown as TaskHandle;
        h.task = task;
        if (h.line && h.phase === 'running') task.output = h.line;
        await h.done.promise;
        task.title = hostTitle(h, c, seg.compact);
        const failure = hostFailure(h);
        if (failure !== null) throw new Error(failure);
        // A skip message replaces the title: in a compact step, done hosts stay hidden instead.
        if (seg.compact && h.phase === 'done') return;
        if (h.phase === 'done' && h.status === 'skipped') task.skip(`${h.host} ${c.dim(`skipped${h.reason ? `: ${h.reason}` : ''}`)}`);
        else if (h.phase !== 'done') task.skip(`${h.host} ${c.dim(h.phase === 'running' ? 'running (view paused)' : 'waiting')}`);
      },
    }));
    const stepTask: ListrTask<object, typeof TerminalRenderer> = {
      title: this.#title(seg),
      rendererOptions: { persistentOutput: true, outputBar: Infinity },
      task: (_ctx, wrapper) => {
        const task = wrapper as unknown as TaskHandle;
        seg.task = task;
        task.title = this.#title(seg);
        for (const note of seg.notes) task.output = note;
        const untilStepEnd = async (): Promise<void> => {
          await seg.done.promise;
          task.title = this.#title(seg);
        };
        if (seg.hosts.size === 0) return untilStepEnd();
        // The step's own promise: a title-less subtask that ends with the step.
        return wrapper.newListr([...hostTasks, { task: untilStepEnd }], { concurrent: true, exitOnError: false });
      },
    };
    const logger = new ListrLogger({ processOutput: this.#processOutput, useIcons: true });
    return new Listr<object, typeof TerminalRenderer | 'test', 'simple'>([stepTask], {
      renderer: this.#options.renderer === 'test' ? 'test' : TerminalRenderer,
      fallbackRenderer: 'simple',
      fallbackRendererCondition: false,
      silentRendererCondition: false,
      registerSignalListeners: false,
      exitOnError: false,
      concurrent: false,
      rendererOptions: {
        logger,
        lazy: this.#options.lazy === true,
        // A finished read-only step is one line (its hosts are in the journal and the report);
        // a mutating step keeps its hosts on screen.
        collapseSubtasks: !seg.mutates && seg.hosts.size > 0,
        collapseErrors: false,
        showErrorMessage: true,
        removeEmptyLines: true,
      },
    });
  }
}
