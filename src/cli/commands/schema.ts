// remedy schema runbook|inventory: the JSON Schema (draft-07, for yaml-language-server and other
// editors) derived from the same zod schemas the validator uses. schema/*.schema.json are its output.
import { Argument, type Command } from 'commander';
import * as z from 'zod';
import { InventoryFile } from '../../inventory/index.js';
import { Runbook, VarsFile } from '../../runbook/schema.js';
import { PolicyFile } from '../../service/policy-schema.js';
import { TestFile } from '../../testing/schema.js';
import { action } from '../exit.js';

export const SCHEMA_NAMES = ['runbook', 'vars', 'inventory', 'runbook-test', 'policy'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** The JSON Schema text, exactly as committed under schema/<name>.schema.json. */
export function schemaText(name: SchemaName): string {
  const schema = name === 'runbook' ? Runbook : name === 'vars' ? VarsFile : name === 'inventory' ? InventoryFile : name === 'policy' ? PolicyFile : TestFile;
  // io: 'input' keeps fields with defaults optional, as an author writes them.
  return `${JSON.stringify(z.toJSONSchema(schema, { target: 'draft-07', io: 'input' }), null, 2)}\n`;
}

export function register(program: Command): void {
  program
    .command('schema')
    .description(
      'Print the JSON Schema (draft-07) of runbooks, shared vars files (imports:), inventories, runbook tests (*.test.yaml) or the serve policy, for editors.',
    )
    .addArgument(new Argument('<which>', 'which schema').choices(SCHEMA_NAMES))
    .addHelpText(
      'after',
      '\nIn a runbook: # yaml-language-server: $schema=../../schema/runbook.schema.json\nIn a vars file: # yaml-language-server: $schema=../../schema/vars.schema.json\nIn a test:    # yaml-language-server: $schema=../../../schema/runbook-test.schema.json\n',
    )
    .action(
      action(async (which: SchemaName) => {
        process.stdout.write(schemaText(which));
        return 0;
      }),
    );
}
