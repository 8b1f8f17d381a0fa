import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '@drover/shared';

test('InvalidInputError names the field, the value and what was expected', () => {
  const error = new InvalidInputError('params.seconds', -1, 'a number of seconds from 0 to 86400');
  assert.equal(error.message, 'params.seconds: got -1, expected a number of seconds from 0 to 86400');
  assert.equal(error.retryable, false);
});
