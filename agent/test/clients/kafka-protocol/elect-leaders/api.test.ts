// The ElectLeaders low-level APIs: key 43, versions 0-2, flexible headers from v2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API_KEYS,
  ELECT_LEADERS_CODECS,
  ELECT_LEADERS_VERSIONS,
  electLeadersApi,
} from '../../../../src/clients/kafka-protocol/index.ts';

test('one API per version, key 43; v2 is the first flexible one', () => {
  assert.deepEqual(ELECT_LEADERS_VERSIONS, [0, 1, 2]);
  for (const version of ELECT_LEADERS_VERSIONS) {
    const api = electLeadersApi(version);
    assert.equal(api.key, API_KEYS.ElectLeaders);
    assert.equal(api.key, 43);
    assert.equal(api.version, version);
    assert.equal(ELECT_LEADERS_CODECS[version]?.flexible, version >= 2);
    assert.equal(electLeadersApi(version), api, 'built once');
  }
  assert.throws(() => electLeadersApi(3), RangeError);
});
