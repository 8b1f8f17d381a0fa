// The step catalog: the allow-list of step names an order may carry, and parameter validation
// that names the offending field, its value and what was expected.
import type { z } from 'zod';
import { InvalidInputError, InvalidInputErrors } from '../errors.ts';
import {
  cassandraDecommissionStep,
  cassandraDescribeStep,
  cassandraKeyspacesExtendStep,
  cassandraNodePrepareStep,
  cassandraNodeWipeStep,
  cassandraRebuildStep,
  cassandraRebuildVerifyStep,
  cassandraStatusStep,
} from './cassandra.ts';
import { commandStep } from './command.ts';
import { factsStep } from './facts.ts';
import { kafkaBrokerConfigureStep } from './kafka-broker-configure.ts';
import { kafkaDescribeStep } from './kafka-describe.ts';
import { kafkaElectLeadersStep } from './kafka-elect-leaders.ts';
import { kafkaReassignStep } from './kafka-reassign.ts';
import { kafkaVerifyStep } from './kafka-verify.ts';
import { pingStep } from './ping.ts';
import { serviceStep } from './service.ts';
import { sleepStep } from './sleep.ts';
import type { StepDefinition } from './step.ts';
import { zookeeperCleanStep, zookeeperRestoreStep } from './zookeeper-clean.ts';
import {
  zookeeperObserverJoinStep,
  zookeeperObserverLeaveStep,
  zookeeperObserverVerifyStep,
  zookeeperVotersAddObserversStep,
} from './zookeeper-observer.ts';

export const STEP_CATALOG: ReadonlyMap<string, StepDefinition> = new Map<string, StepDefinition>(
  [
    pingStep,
    factsStep,
    sleepStep,
    commandStep,
    serviceStep,
    kafkaDescribeStep,
    kafkaVerifyStep,
    kafkaReassignStep,
    kafkaElectLeadersStep,
    kafkaBrokerConfigureStep,
    zookeeperObserverJoinStep,
    zookeeperObserverVerifyStep,
    zookeeperObserverLeaveStep,
    zookeeperVotersAddObserversStep,
    zookeeperCleanStep,
    zookeeperRestoreStep,
    cassandraDescribeStep,
    cassandraNodePrepareStep,
    cassandraKeyspacesExtendStep,
    cassandraRebuildStep,
    cassandraRebuildVerifyStep,
    cassandraStatusStep,
    cassandraDecommissionStep,
    cassandraNodeWipeStep,
  ].map((step) => [step.name, step as StepDefinition]),
);

export function stepNames(): string[] {
  return [...STEP_CATALOG.keys()];
}

export function getStep(name: string): StepDefinition {
  const step = STEP_CATALOG.get(name);
  if (!step) throw new InvalidInputError('step', name, `one of ${stepNames().join(', ')}`);
  return step;
}

/** Turns zod issues into errors that name `params.<path>`, the value found and the expectation. */
export function issuesToErrors(prefix: string, input: unknown, error: z.ZodError): InvalidInputErrors {
  return new InvalidInputErrors(
    error.issues.map((issue) => {
      const path = issue.path.map(String);
      let value: unknown = input;
      for (const key of path)
        value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
      const field = [prefix, ...path].join('.');
      const expected =
        issue.code === 'unrecognized_keys' ? `no unknown keys (${issue.keys.join(', ')} not allowed)` : issue.message;
      return new InvalidInputError(field, value, expected);
    }),
  );
}

export function validateStepParams(stepName: string, params: unknown): Record<string, unknown> {
  const step = getStep(stepName);
  const parsed = step.params.safeParse(params ?? {});
  if (!parsed.success) throw issuesToErrors('params', params, parsed.error);
  return parsed.data as Record<string, unknown>;
}
