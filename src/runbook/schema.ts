// The runbook language, declared once. TypeScript types and schema/runbook.schema.json are both
// derived from these zod schemas, so the editor, the validator and the code cannot drift apart.
import * as z from 'zod';
import { DURATION_PATTERN } from '../duration.js';

export { DURATION_PATTERN };
/** A value may instead be a template over params (`"{{ dump_interval }}"`), checked once rendered. */
export const TEMPLATE_PATTERN = /\{\{.*\}\}/;
/** Upper bounds of numeric fields: past these a value is a typo, and timers would overflow. */
export const LIMITS = {
  /** 7 days; Node timers cap at 2³¹−1 ms (24.8 days) and fire at once beyond it. */
  durationMs: 7 * 24 * 3_600_000,
  retries: 1_000,
  repeatCount: 10_000,
  serial: 100_000,
} as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
function literalDurationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
  return total;
}

export const Duration = z
  .string()
  // A regex rather than a refine, so the JSON Schema carries it and editors flag `5 minutes` too.
  .regex(/^(?:(?:\d+(?:ms|s|m|h))+|[\s\S]*\{\{.*\}\}[\s\S]*)$/, 'expected a duration such as 500ms, 30s, 5m or 1h, or a {{ template }}')
  .refine((v) => !DURATION_PATTERN.test(v) || literalDurationMs(v) <= LIMITS.durationMs, 'a duration may be at most 168h (7 days)')
  .meta({ description: 'A duration: 500ms, 30s, 5m, 1h, 1m30s, or a {{ template }} over params that renders to one.' });

export const STEP_ID_PATTERN = /^[a-z][a-z0-9_]*$/;
export const StepId = z
  .string()
  .regex(STEP_ID_PATTERN, 'step ids are lower_snake_case: a letter, then letters, digits or _')
  .meta({ description: 'Unique id of the step (lower_snake_case). Facts and goto refer to it.' });

export const FACT_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** A CEL expression (https://github.com/google/cel-spec), evaluated in a sandbox. */
export const Expression = z.string().min(1).meta({
  description:
    'A CEL expression. Per host it sees `facts`, `host`, `vars`, `params`, `cause`; fleet-wide it uses hosts("pattern").all(h, ...), .exists(...), .filter(...).size().',
});

/** An Ansible-style host pattern: `message_processors`, `dc_1:&routers`, `all:!mp-3`, `~mp-[12]`. */
export const HostPattern = z.string().min(1).meta({
  description: 'Ansible host pattern over inventory groups and hosts, e.g. message_processors, dc_1:&routers, all:!mp-3.',
});

export const ParamType = ['string', 'integer', 'boolean', 'duration', 'enum'] as const;

export const Param = z
  .strictObject({
    type: z.enum(ParamType).default('string'),
    description: z.string().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    required: z.boolean().optional().meta({ description: 'Fail when no value is given and there is no default.' }),
    values: z.array(z.string()).min(1).optional().meta({ description: 'Allowed values (type enum).' }),
    pattern: z.string().optional().meta({ description: 'Regular expression a string value must match in full.' }),
    values_from_host_var: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional()
      .meta({
        description:
          'A value given with -e must be this inventory var of at least one host (e.g. region), or the default: a typo is refused (exit 64) before anything runs, not a run that finds no host. Checked when planning against an inventory.',
      }),
    min: z.number().optional(),
    max: z.number().optional(),
    secret: z.boolean().optional().meta({ description: 'Redacted in console, journal, plan and reports.' }),
  })
  .meta({ description: 'A typed input, overridable with -e key=value.' });

/** What a capture reads and how it turns it into a fact. */
export const CaptureSpec = z.union([
  z.enum(['stdout', 'stderr', 'exit_code']),
  z.strictObject({
    from: z.enum(['stdout', 'stderr', 'exit_code']).default('stdout'),
    regex: z.string().optional().meta({ description: 'First match; the fact is group `group` (default 1, or 0 without groups).' }),
    group: z.union([z.number().int().min(0), z.string()]).optional(),
    all: z.boolean().optional().meta({ description: 'With regex: a list of every match.' }),
    json: z.boolean().optional().meta({ description: 'Parse the text as JSON.' }),
    as: z.enum(['string', 'integer', 'number', 'boolean', 'lines']).optional(),
    default: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    evidence: z.boolean().optional().meta({ description: 'Show this fact as evidence (guided screen, reports) even when no decision reads it.' }),
  }),
]);

/** Which lines of a step's output are evidence: shown to the operator, inlined in the report. */
export const EvidenceSpec = z
  .union([
    z.literal(true),
    z.strictObject({
      title: z.string().min(1).optional().meta({ description: 'What the lines are, for the reader (default: the step name).' }),
      from: z.enum(['stdout', 'stderr']).optional().meta({ description: 'Which output (default stdout).' }),
      lines: z.string().min(1).optional().meta({ description: 'Regular expression: only lines that match are evidence (default: every line).' }),
      max_lines: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .optional()
        .meta({ description: 'Keep at most this many lines per host (default 40); the rest are cut with a visible marker and a link to the full output.' }),
    }),
  ])
  .meta({ description: 'Mark the output as evidence: `true` for every line of stdout, or a block choosing the lines.' });

export const OnFailure = z.union([z.enum(['abort', 'continue']), z.strictObject({ goto: StepId })]);

export const Repeat = z.strictObject({
  count: z.union([z.number().int().min(1).max(LIMITS.repeatCount), z.string().regex(TEMPLATE_PATTERN, 'expected a count or a {{ template }}')]),
  interval: Duration.optional(),
});

/** `serial: 1`, `serial: "25%"`, or a template such as `"{{ restart_serial }}"`; for rolling batches. */
export const Serial = z.union([
  z.number().int().min(1).max(LIMITS.serial),
  z.string().regex(/^(\d{1,3}%|.*\{\{.*\}\}.*)$/, 'expected a count, a percentage such as "25%", or a {{ template }}'),
]);

/** A check re-run until it passes: the body of `wait:` and of `verify:`. */
export const Check = z.strictObject({
  run: z.string().min(1).meta({ description: 'Shell command; templated, values quoted.' }),
  until: Expression.optional().meta({
    description: 'CEL over `result` (exit_code, stdout, stderr) and the host context; default: result.exit_code == 0.',
  }),
  retries: z.number().int().min(0).max(LIMITS.retries).optional(),
  delay: Duration.optional(),
  timeout: Duration.optional().meta({ description: 'Overall deadline for all attempts.' }),
  become: z.union([z.boolean(), z.string()]).optional(),
});

const common = {
  id: StepId,
  name: z.string().min(1).meta({ description: 'One line an operator reads at 3 a.m.' }),
  description: z.string().optional(),
  hosts: HostPattern.optional(),
  when: Expression.optional(),
  timeout: Duration.optional(),
  retries: z.number().int().min(0).max(LIMITS.retries).optional(),
  delay: Duration.optional().meta({ description: 'Pause between retries.' }),
  repeat: Repeat.optional(),
  serial: Serial.optional(),
  max_unavailable: Serial.optional(),
  max_fail_percentage: z.number().min(0).max(100).optional(),
  on_failure: OnFailure.optional(),
  confirm: z.string().optional(),
  become: z.union([z.boolean(), z.string()]).optional().meta({
    description: 'true: the inventory become_user; a string: run as that user. The method comes from the inventory.',
  }),
  capture: z.record(z.string().regex(FACT_NAME_PATTERN), CaptureSpec).optional(),
  evidence: EvidenceSpec.optional(),
  tags: z.array(z.string()).optional(),
  rollback_hosts: z.enum(['failed', 'all']).optional().meta({
    description:
      'Only on a step inside `rollback:`. failed (default): the hosts where the step being undone failed, of those this step targets. all: every host this step targets that is still in the run (a change made on other hosts, such as the MPs behind failed Routers, is undone everywhere).',
  }),
};

// Steps that can carry rollback steps reference the step union lazily.
export type StepInput = z.input<typeof Step>;

export const RunStep = z
  .strictObject({
    ...common,
    run: z.string().min(1).meta({ description: 'Shell command; every {{ value }} is POSIX single-quoted unless piped to raw.' }),
    mutates: z.boolean().optional().meta({ description: 'Declare that this command changes the host.' }),
    skippable: z.boolean().optional().meta({
      description: 'A mutating step that is not part of the fix (evidence such as a heap dump): declining it does not leave the host "not remediated".',
    }),
    verify: Check.optional(),
    get rollback() {
      return z.array(Step).optional();
    },
  })
  .meta({ title: 'run', description: 'Run a shell command on every targeted host.' });

export const PropertiesStep = z
  .strictObject({
    ...common,
    properties: z.strictObject({
      file: z.string().min(1),
      set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      unset: z.array(z.string()).optional(),
      backup: z.boolean().default(true),
      owner: z.string().optional().meta({ description: 'user[:group] to own the edited file.' }),
      mode: z
        .string()
        .regex(/^0?[0-7]{3}$/)
        .optional(),
    }),
    verify: Check.optional(),
    get rollback() {
      return z.array(Step).optional();
    },
  })
  .meta({ title: 'properties', description: 'Set or unset keys in a Java .properties file, keeping comments and order, with a backup.' });

export const FetchStep = z
  .strictObject({
    ...common,
    fetch: z.strictObject({
      src: z.string().min(1),
      dest: z.string().optional().meta({ description: 'Name under artifacts/<host>/ (default: the file name).' }),
      optional: z.boolean().optional().meta({ description: 'A missing file is not a failure.' }),
    }),
  })
  .meta({ title: 'fetch', description: 'Copy a remote file into the run directory (read-only).' });

export const WaitStep = z.strictObject({ ...common, wait: Check }).meta({ title: 'wait', description: 'Re-run a check until it passes (read-only).' });

export const PauseStep = z
  .strictObject({
    ...common,
    pause: z.union([Duration, z.strictObject({ duration: Duration, message: z.string().optional() })]),
  })
  .meta({ title: 'pause', description: 'Sleep for a while (read-only).' });

export const IncludeStep = z
  .strictObject({
    ...common,
    include: z.strictObject({
      runbook: z.string().min(1).meta({ description: 'A runbook name or a path relative to this file.' }),
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    }),
  })
  .meta({ title: 'include', description: 'Run another runbook inline, with params.' });

export const OutcomeStatus = ['resolved', 'escalate', 'nothing-to-do'] as const;
export const OutcomeStep = z
  .strictObject({
    ...common,
    outcome: z.strictObject({
      status: z.enum(OutcomeStatus),
      message: z.string().min(1),
      require: z
        .union([Expression, z.array(Expression).min(1)])
        .optional()
        .meta({
          description:
            'Fleet-level CEL conditions this run must have seen hold before it may end resolved or nothing-to-do (e.g. hosts("web").all(h, h.facts.status == 200), steps.verify.status == "ok"). When one does not hold, the run ends escalated (exit 3) instead, with the evidence.',
        }),
    }),
  })
  .meta({ title: 'outcome', description: 'End the run with an outcome and a message.' });

export const DecideStep = z
  .strictObject({
    ...common,
    decide: z.strictObject({
      causes: z
        .array(
          z.strictObject({
            cause: z.string().regex(/^[a-z][a-z0-9-]*$/),
            when: Expression.meta({ description: 'Fleet-level CEL; the first true cause wins.' }),
            summary: z.string().optional(),
          }),
        )
        .min(1),
      default: z
        .string()
        .regex(/^[a-z][a-z0-9-]*$/)
        .default('none'),
    }),
  })
  .meta({ title: 'decide', description: 'Name the diagnosed cause from ordered conditions; later steps branch on `cause`.' });

/** The support bundle's default file name, under the run's artifacts/. */
export const DEFAULT_BUNDLE_NAME = 'support-bundle-{{ run.id }}.tar.gz';

export const BundleStep = z
  .strictObject({
    ...common,
    bundle: z.strictObject({
      name: z
        .string()
        .regex(/^[^/]*\.tar\.gz$/, "expected a file name ending in .tar.gz (it is written to the run's artifacts/)")
        .optional()
        .meta({ description: `File name under artifacts/ (default ${DEFAULT_BUNDLE_NAME}); templated.` }),
      files: z
        .array(
          z.strictObject({
            match: z.string().min(1).meta({ description: 'Glob over artifacts/, e.g. "*/system.log" (the first segment is the host).' }),
            describe: z.string().min(1).meta({ description: 'What these files are, written into the manifest.' }),
          }),
        )
        .min(1),
    }),
  })
  .meta({
    title: 'bundle',
    description:
      'Pack the artifacts fetched so far into one .tar.gz under artifacts/, with manifest.json and SHA256SUMS (sha256 and what each file is); streamed from disk, on the controller.',
  });

export const STEP_KINDS = ['run', 'properties', 'fetch', 'wait', 'pause', 'include', 'outcome', 'decide', 'bundle'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const STEP_SCHEMAS = {
  run: RunStep,
  properties: PropertiesStep,
  fetch: FetchStep,
  wait: WaitStep,
  pause: PauseStep,
  include: IncludeStep,
  outcome: OutcomeStep,
  decide: DecideStep,
  bundle: BundleStep,
} as const;

export const Step: z.ZodType<Step> = z.union([
  RunStep,
  PropertiesStep,
  FetchStep,
  WaitStep,
  PauseStep,
  IncludeStep,
  OutcomeStep,
  DecideStep,
  BundleStep,
]) as unknown as z.ZodType<Step>;

const VarName = z.string().regex(/^[a-z][a-z0-9_]*$/);
const VarValue = z.union([z.string(), z.number(), z.boolean()]);
export const Vars = z.record(VarName, VarValue).meta({
  description: 'Named values, templated over params, inventory vars and the vars above them; steps use them as {{ name }}.',
});

/** A shared vars file, imported by runbooks with `imports:`. */
export const VarsFile = z
  .strictObject({
    description: z.string().optional(),
    vars: Vars,
  })
  .meta({ title: 'remedy shared vars', description: 'Vars shared by several runbooks, which list this file under imports:.' });

export const Runbook = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'runbook names are kebab-case'),
    summary: z.string().min(1),
    description: z.string().optional(),
    imports: z
      .array(z.string().regex(/\.ya?ml$/, 'expected the path of a .yaml vars file'))
      .optional()
      .meta({
        description:
          "Shared vars files (paths relative to this runbook), each a YAML map with vars:. Their vars come before this runbook's own, in order; a name declared twice is an error.",
      }),
    params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), Param).optional(),
    vars: Vars.optional(),
    steps: z.array(Step).min(1),
  })
  .meta({ title: 'remedy runbook', description: 'A remedy runbook: diagnose, decide, fix, verify.' });

type Common = {
  id: string;
  name: string;
  description?: string | undefined;
  hosts?: string | undefined;
  when?: string | undefined;
  timeout?: string | undefined;
  retries?: number | undefined;
  delay?: string | undefined;
  repeat?: { count: number | string; interval?: string | undefined } | undefined;
  serial?: number | string | undefined;
  max_unavailable?: number | string | undefined;
  max_fail_percentage?: number | undefined;
  on_failure?: z.output<typeof OnFailure> | undefined;
  confirm?: string | undefined;
  become?: boolean | string | undefined;
  capture?: Record<string, z.output<typeof CaptureSpec>> | undefined;
  evidence?: z.output<typeof EvidenceSpec> | undefined;
  tags?: string[] | undefined;
  rollback_hosts?: 'failed' | 'all' | undefined;
};
export type Check = z.output<typeof Check>;
export type RunStep = Common & {
  run: string;
  mutates?: boolean | undefined;
  skippable?: boolean | undefined;
  verify?: Check | undefined;
  rollback?: Step[] | undefined;
};
export type PropertiesStep = Common & {
  properties: {
    file: string;
    set?: Record<string, string | number | boolean> | undefined;
    unset?: string[] | undefined;
    backup: boolean;
    owner?: string | undefined;
    mode?: string | undefined;
  };
  verify?: Check | undefined;
  rollback?: Step[] | undefined;
};
export type FetchStep = Common & { fetch: { src: string; dest?: string | undefined; optional?: boolean | undefined } };
export type WaitStep = Common & { wait: Check };
export type PauseStep = Common & { pause: string | { duration: string; message?: string | undefined } };
export type IncludeStep = Common & { include: { runbook: string; params?: Record<string, string | number | boolean> | undefined } };
export type OutcomeStep = Common & { outcome: { status: (typeof OutcomeStatus)[number]; message: string; require?: string | string[] | undefined } };
export type DecideStep = Common & {
  decide: { causes: { cause: string; when: string; summary?: string | undefined }[]; default: string };
};
export type BundleStep = Common & { bundle: { name?: string | undefined; files: { match: string; describe: string }[] } };
export type Step = RunStep | PropertiesStep | FetchStep | WaitStep | PauseStep | IncludeStep | OutcomeStep | DecideStep | BundleStep;
export type Param = z.output<typeof Param>;
export type CaptureSpec = z.output<typeof CaptureSpec>;
export type EvidenceSpec = z.output<typeof EvidenceSpec>;
export type Runbook = z.output<typeof Runbook>;
export type VarsFile = z.output<typeof VarsFile>;

/** The kind of a step is the one action key it carries. */
export function stepKind(step: Step): StepKind {
  for (const kind of STEP_KINDS) if (kind in step) return kind;
  throw new Error(`step ${(step as Common).id} has no action key`);
}

/** Read-only or mutating: derived from the kind, declared for shell steps, inherited for includes. */
export function stepMutates(step: Step): boolean {
  if ('run' in step) return step.mutates === true;
  if ('properties' in step) return true;
  return false;
}
