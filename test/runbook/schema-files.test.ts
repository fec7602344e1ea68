// schema/*.schema.json are generated from the zod schemas (`npm run schema`); this fails when
// the committed files no longer match the code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemaText, SCHEMA_NAMES } from '../../src/cli/commands/schema.js';

describe('committed JSON Schemas', () => {
  for (const name of SCHEMA_NAMES) {
    it(`schema/${name}.schema.json is up to date (regenerate with npm run schema)`, () => {
      const committed = readFileSync(fileURLToPath(new URL(`../../schema/${name}.schema.json`, import.meta.url)), 'utf8');
      expect(committed).toBe(schemaText(name));
    });
  }

  it('is draft-07 and describes the runbook language', () => {
    const schema = JSON.parse(schemaText('runbook')) as { $schema: string; required: string[]; additionalProperties: boolean };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.required).toEqual(['name', 'summary', 'steps']);
    expect(schema.additionalProperties).toBe(false);
  });
});
