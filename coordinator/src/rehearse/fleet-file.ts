// Reading a fleet file: YAML through the same reader as plan files, so every problem comes with
// file, line, column, field, value and what was expected, all reported at once.
import { readFileSync } from 'node:fs';
import { type Fleet, FleetSchema, InvalidInputError } from '@drover/shared';
import { parseYamlFile, YamlFileError } from '../files/yaml.ts';

/** A fleet file's problems. */
export class FleetFileError extends YamlFileError {
  constructor(file: string, problems: InvalidInputError[]) {
    super(file, problems);
    this.name = 'FleetFileError';
  }
}

export function parseFleetText(text: string, file = 'fleet.yaml'): Fleet {
  return parseYamlFile(text, file, FleetSchema, (f, problems) => new FleetFileError(f, problems)).value;
}

export function loadFleetFile(file: string): Fleet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError('fleet file', file, `a readable YAML file (${(cause as Error).message})`);
  }
  return parseFleetText(text, file);
}
