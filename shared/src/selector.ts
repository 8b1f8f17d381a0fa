// Label selectors, kubectl style: `cluster=kafka-a,role=broker`, `dc in (a,b)`, `rack!=1c`,
// `dc notin (x)`, `role` (label present), `!role` (label absent). Requirements are ANDed.
// Example: `cluster=kafka-a, rack notin (1c), dc in (use1,usw2)` selects kafka-a agents outside rack 1c
// in either region. An empty selector selects every agent.
import { InvalidInputError } from './errors.ts';

export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export interface Selector {
  text: string;
  requirements: Requirement[];
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const VALUE = /^[A-Za-z0-9._-]{0,63}$/;
const EXPECTED =
  'comma-separated requirements like "key=value", "key!=value", "key in (a,b)", "key notin (a,b)", "key" or "!key"';

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function checkKey(key: string, part: string): string {
  if (!KEY.test(key))
    throw new InvalidInputError('selector', part, `a label key (letters, digits, ".", "_", "/", "-"); ${EXPECTED}`);
  return key;
}

function checkValue(value: string, part: string): string {
  if (!VALUE.test(value))
    throw new InvalidInputError('selector', part, `a label value (letters, digits, ".", "_", "-"); ${EXPECTED}`);
  return value;
}

export function parseSelector(text: string): Selector {
  const trimmed = text.trim();
  if (trimmed === '') return { text: '', requirements: [] };
  const requirements: Requirement[] = [];
  for (const raw of splitTopLevel(trimmed)) {
    const part = raw.trim();
    if (part === '') throw new InvalidInputError('selector', text, `no empty requirement; ${EXPECTED}`);
    const setMatch = /^([^\s!=()]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (setMatch) {
      const [, key, op, list] = setMatch as unknown as [string, string, 'in' | 'notin', string];
      const values = list.split(',').map((v) => checkValue(v.trim(), part));
      if (values.length === 0 || values.some((v) => v === '')) {
        throw new InvalidInputError('selector', part, `a non-empty value list; ${EXPECTED}`);
      }
      requirements.push({ key: checkKey(key, part), op, values });
      continue;
    }
    const cmpMatch = /^([^\s!=()]+)\s*(!=|==|=)\s*([^\s!=(),]*)$/.exec(part);
    if (cmpMatch) {
      const [, key, op, value] = cmpMatch as unknown as [string, string, string, string];
      requirements.push({ key: checkKey(key, part), op: op === '!=' ? '!=' : '=', value: checkValue(value, part) });
      continue;
    }
    const existsMatch = /^(!?)([^\s!=()]+)$/.exec(part);
    if (existsMatch) {
      const [, bang, key] = existsMatch as unknown as [string, string, string];
      requirements.push({ key: checkKey(key, part), op: bang ? '!exists' : 'exists' });
      continue;
    }
    throw new InvalidInputError('selector', part, EXPECTED);
  }
  return { text: trimmed, requirements };
}

export function matchesSelector(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.requirements.every((req) => {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    switch (req.op) {
      case '=':
        return has && value === req.value;
      case '!=':
        return !has || value !== req.value;
      case 'in':
        return has && req.values.includes(value as string);
      case 'notin':
        return !has || !req.values.includes(value as string);
      case 'exists':
        return has;
      // '!exists'
      default:
        return !has;
    }
  });
}
