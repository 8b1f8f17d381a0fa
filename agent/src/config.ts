// Reads and checks the agent's config file; trusted keys may be given inline (PEM) or as file paths.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type AgentConfig,
  AgentConfigSchema,
  issuesToErrors,
  type TrustedKeys,
  trustedKeysFromPems,
} from '@drover/shared';
import { ConfigError } from './errors.ts';
import { checkCommandAllowList } from './steps/command.ts';

export interface LoadedAgentConfig {
  config: AgentConfig;
  trustedKeys: TrustedKeys;
}

export function parseAgentConfig(raw: unknown, baseDir = process.cwd()): LoadedAgentConfig {
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success) throw issuesToErrors('config', raw, parsed.error);
  const config = parsed.data;
  const pems = config.trustedKeys.map((entry, index) => {
    if (entry.includes('-----BEGIN')) return entry;
    const path = resolve(baseDir, entry);
    try {
      return readFileSync(path, 'utf8');
    } catch (cause) {
      throw new ConfigError(`trustedKeys[${index}]: cannot read key file ${path}`, { cause });
    }
  });
  // Patterns compile, placeholders name declared parameters, argv[0] is fixed.
  checkCommandAllowList(config.commands);
  return { config, trustedKeys: trustedKeysFromPems(pems) };
}

export function loadAgentConfig(path: string): LoadedAgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseAgentConfig(raw, resolve(path, '..'));
}
