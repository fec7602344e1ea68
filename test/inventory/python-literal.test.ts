// INI values are read as Python's ast.literal_eval would, falling back to the text itself.
import { describe, expect, test } from 'vitest';
import { parsePythonLiteral } from '../../src/inventory/index.js';

describe('parsePythonLiteral', () => {
  test.each([
    ['2222', 2222],
    ['-5', -5],
    ['1_000', 1000],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['.5', 0.5],
    ['0x1F', 31],
    ['0o17', 15],
    ['0b101', 5],
    ['0', 0],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'a b'", 'a b'],
    ['"tab\\there"', 'tab\there'],
    ["r'\\d+'", '\\d+'],
    ["'\\x41\\u00e9'", 'Aé'],
    ['\'adjacent\' "strings"', 'adjacentstrings'],
    ["[1, 'two', [3]]", [1, 'two', [3]]],
    ['(1, 2)', [1, 2]],
    ['(1,)', [1]],
    ['(7)', 7],
    ['()', []],
    ["{'k': 1, 2: None, True: 'x'}", { k: 1, '2': null, True: 'x' }],
    ['{1, 2}', [1, 2]],
    ['{}', {}],
    ['9001  # a comment', 9001],
    ['...', '...'],
  ])('%s is a literal', (text, value) => {
    expect(parsePythonLiteral(text)).toEqual(value);
  });

  test.each([
    'true', // Python's booleans are capitalised
    'FALSE',
    'dc_1',
    '10.0.0.5',
    '010', // leading zeros are a syntax error in Python 3
    '1j',
    'a b',
    "'unterminated",
    '[1, 2',
    '12345678901234567890', // beyond 2^53: kept exact, as text
    '/opt/apigee',
    'http://x:1/#frag',
    '',
    '1 + 2',
    '__import__("os")',
  ])('%s is not a literal and stays text', (text) => {
    expect(parsePythonLiteral(text)).toBe(text);
  });
});

describe('tuples without parentheses, as literal_eval reads them', () => {
  test('v=1,2 is a list, a trailing comma makes a one-item list, text with commas stays text', () => {
    expect(parsePythonLiteral('1,2')).toEqual([1, 2]);
    expect(parsePythonLiteral("'a', 'b'")).toEqual(['a', 'b']);
    expect(parsePythonLiteral('1,')).toEqual([1]);
    expect(parsePythonLiteral('a,b')).toBe('a,b');
    expect(parsePythonLiteral('1,,2')).toBe('1,,2');
  });
});
