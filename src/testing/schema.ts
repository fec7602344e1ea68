// The runbook test language (`*.test.yaml`), declared once: the loader validates with these zod
// schemas and schema/runbook-test.schema.json is derived from them (`remedy schema runbook-test`).
import * as z from 'zod';
import { FINAL_HOST_STATUSES } from '../engine/events.js';
import { DURATION_PATTERN } from '../runbook/schema.js';

const HOST_STATUSES = ['ok', 'changed', 'failed', 'timed-out', 'unreachable', 'skipped'] as const;
const OUTCOMES = ['resolved', 'nothing-to-do', 'escalated', 'failed', 'refused', 'interrupted', 'unreachable'] as const;

const ReplyFields = {
  stdout: z.string().optional().meta({ description: 'What the command prints on stdout (for a properties step: the file as read).' }),
  stderr: z.string().optional(),
  exit_code: z.number().int().min(0).max(255).optional().meta({ description: 'Exit code (default 0).' }),
  timeout: z.boolean().optional().meta({ description: 'The command runs into its timeout (the fake clock moves by the timeout).' }),
  unreachable: z.boolean().optional().meta({ description: 'The host cannot be reached when this command is sent.' }),
  duration: z
    .string()
    .regex(DURATION_PATTERN, 'expected a duration such as 500ms, 30s, 5m')
    .optional()
    .meta({ description: 'How long the command takes, on the fake clock (default 0).' }),
};

/** What one command "returns" on a host. */
export const Reply = z
  .strictObject({
    ...ReplyFields,
    verify: z
      .union([z.strictObject(ReplyFields), z.array(z.strictObject(ReplyFields)).min(1)])
      .optional()
      .meta({ description: "What the step's verify: check returns (a list: one per attempt, the last repeating)." }),
  })
  .meta({ description: 'What a command returns: stdout, stderr, exit_code, or timeout / unreachable.' });
export type Reply = z.output<typeof Reply>;
export type ReplyBody = Omit<Reply, 'verify'>;

/** One reply for every call, or a list: one per call (attempt, iteration, batch), the last repeating. */
export const ReplySequence = z.union([Reply, z.array(Reply).min(1)]);
export type ReplySequence = z.output<typeof ReplySequence>;

/**
 * Per step: one reply (sequence) for every host, or replies by host pattern (a host name, a
 * group, any Ansible pattern, `*`). Host names win over patterns; patterns apply in file order.
 */
export const StepReplies = z.union([ReplySequence, z.record(z.string().min(1), ReplySequence)]).meta({
  description: 'One reply for every host, or a map from host pattern (host, group, Ansible pattern, *) to reply.',
});

/** Keyed by step id (qualified for included steps: busy_dumps.locate); `*` matches any characters. */
export const Returns = z.record(z.string().min(1), StepReplies).meta({
  description: 'What commands return, by step id (include steps qualified: restart_down_mps.restart; * is a wildcard) and host pattern.',
});
export type Returns = z.output<typeof Returns>;

const Texts = z.union([z.string(), z.array(z.string())]);

const CommandExpectation = z
  .strictObject({
    step: z.string().min(1).meta({ description: 'Step id (qualified for included steps).' }),
    host: z.string().min(1).optional().meta({ description: 'Host name (default: every host the step ran a command on must match).' }),
    phase: z.enum(['run', 'verify']).default('run').optional(),
    equals: z.string().optional().meta({ description: 'The rendered command, exactly (with or without its become wrapper).' }),
    matches: z.string().optional().meta({ description: 'A regular expression the rendered command matches.' }),
    not_matches: z.string().optional().meta({ description: 'A regular expression the rendered command does not match.' }),
  })
  .meta({ description: 'An assertion on the commands a step sent.' });
export type CommandExpectation = z.output<typeof CommandExpectation>;

const DiffExpectation = z.strictObject({
  step: z.string().min(1),
  host: z.string().min(1),
  equals: z.string().optional().meta({ description: 'The unified diff, exactly.' }),
  contains: Texts.optional().meta({ description: 'Lines (or fragments) the diff contains, e.g. "+key=value".' }),
  none: z.boolean().optional().meta({ description: 'true: the step changed nothing on the host (no diff).' }),
});
export type DiffExpectation = z.output<typeof DiffExpectation>;

export const Expect = z
  .strictObject({
    cause: z.string().nullable().optional().meta({ description: 'The cause the decide step named (null: no decision was made).' }),
    outcome: z.enum(OUTCOMES).optional(),
    exit_code: z.number().int().optional(),
    message: z
      .union([z.string(), z.strictObject({ contains: Texts.optional(), not_contains: Texts.optional(), matches: z.string().optional() })])
      .optional()
      .meta({ description: 'The outcome message: exactly, or contains / not_contains / matches.' }),
    ran: z.array(z.string()).optional().meta({ description: 'Steps that ran (on at least one host, or the controller).' }),
    ran_exactly: z.array(z.string()).optional().meta({ description: 'Every step that ran, in order (rollback and verify included as the step).' }),
    not_ran: z.array(z.string()).optional().meta({ description: 'Steps that did not run on any host.' }),
    skipped: z.array(z.string()).optional().meta({ description: 'Steps skipped as a whole (their when: held on no host).' }),
    refused: z.array(z.string()).optional().meta({ description: 'Mutating steps refused at approval.' }),
    hosts: z.record(z.string(), z.enum(FINAL_HOST_STATUSES)).optional().meta({ description: 'Final status per host (result.json).' }),
    steps: z
      .record(z.string(), z.record(z.string(), z.enum(HOST_STATUSES)))
      .optional()
      .meta({ description: "Per step, each host's last status at that step (a host pattern selects several hosts)." }),
    batches: z
      .record(z.string(), z.array(z.array(z.string())))
      .optional()
      .meta({ description: 'Per rolling step, the hosts of each batch that started, in order.' }),
    commands: z.array(CommandExpectation).optional(),
    diffs: z.array(DiffExpectation).optional(),
    facts: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .optional()
      .meta({ description: 'Facts per host, as captured (only the ones named are compared).' }),
    refused_at_plan: z.strictObject({ contains: Texts }).optional().meta({
      description:
        'The inputs are refused before anything runs (a param value, --limit): the error contains these texts. exit_code, when given, is the CLI exit code of that refusal (64). No other assertion may be given.',
    }),
  })
  .superRefine((e, ctx) => {
    if (e.refused_at_plan === undefined) return;
    // A refused case runs nothing: any assertion about a run would be about nothing.
    for (const key of Object.keys(e))
      if (key !== 'refused_at_plan' && key !== 'exit_code')
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} cannot be checked with refused_at_plan: a refused case runs nothing (only exit_code may be given)`,
        });
  })
  .meta({ description: 'What the run must show. Only what is written is checked.' });
export type Expect = z.output<typeof Expect>;

/** An inventory: a path (relative to the test file) or an Ansible YAML inventory written inline. */
const InventoryRef = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);
const Params = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const TestCase = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    inventory: InventoryRef.optional().meta({ description: "Overrides the file's inventory." }),
    params: Params.optional().meta({ description: "Merged over the file's params (like -e)." }),
    limit: z.string().optional().meta({ description: '--limit PATTERN.' }),
    yes: z.boolean().optional().meta({ description: 'Approve mutating steps like --yes (default true); false: the run refuses the first one.' }),
    returns: Returns.optional().meta({ description: "Replies for this case, tried before the file's returns." }),
    expect: Expect,
  })
  .meta({ description: 'One scenario: inputs, what hosts answer, what the run must show.' });
export type TestCase = z.output<typeof TestCase>;

export const TestFile = z
  .strictObject({
    $schema: z.string().optional(),
    runbook: z.string().min(1).meta({ description: 'The runbook under test: a path relative to this file, or a runbook name.' }),
    inventory: InventoryRef.meta({ description: 'Default inventory for the cases.' }),
    params: Params.optional(),
    limit: z.string().optional(),
    returns: Returns.optional().meta({ description: 'Default replies for every case (a case overrides them per step and host).' }),
    cases: z.array(TestCase).min(1),
  })
  .meta({ description: 'Tests for one runbook, run offline by `remedy test` through the real planner and executor.' });
export type TestFile = z.output<typeof TestFile>;
