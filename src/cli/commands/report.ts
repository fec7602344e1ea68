// remedy report: a readable account of a run directory (markdown, one self-contained HTML
// file, or JSON), from its journal, so it works even for a run whose controller was killed.
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { writeFileAtomic } from '../../journal/atomic.js';
import { REPORT_FORMATS, loadReport, renderReport, type ReportFormat } from '../../journal/report.js';
import { action } from '../exit.js';

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'Write a readable account of a run: timeline per step and host, the diagnosis and its evidence, approvals, what changed, artifacts, final outcome.',
    )
    .argument('<dir>', 'the run directory (runs/<timestamp>-<runbook>/ or the --run-dir of the run)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(REPORT_FORMATS).default('markdown'))
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  remedy report runs/20261124T134501Z-apigee-502-bad-gateway\n  remedy report runs/20261124T134501Z-apigee-502-bad-gateway --format html -o incident.html\n',
    )
    .action(
      action(async (dir: string, opts: { format: ReportFormat; output?: string }) => {
        const text = renderReport(loadReport(dir), opts.format);
        if (opts.output !== undefined) {
          writeFileAtomic(resolve(opts.output), text, 0o644);
          process.stderr.write(`remedy: report written to ${opts.output}\n`);
        } else process.stdout.write(text);
        return 0;
      }),
    );
}
