import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AcceptedEvent } from '@drover/shared';
import { HeldAccepted } from '../src/held-accepted.ts';

const event = (orderId: string): AcceptedEvent => ({ orderId, jobId: 'j-1', agentId: 'a1', step: 'sleep', at: 1 });

test('an accepted event is sent when its hold ends, once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: string[] = [];
  const held = new HeldAccepted(250, (e) => sent.push(e.orderId));
  held.hold(event('o1'));
  t.mock.timers.tick(249);
  assert.deepEqual(sent, [], 'held for 250 ms');
  t.mock.timers.tick(1);
  assert.deepEqual(sent, ['o1']);
  held.send('o1');
  held.drop('o1');
  t.mock.timers.tick(1000);
  assert.deepEqual(sent, ['o1'], 'never twice');
});

test('a step that ends within the hold sends none; another order keeps its own', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: string[] = [];
  const held = new HeldAccepted(250, (e) => sent.push(e.orderId));
  held.hold(event('quick'));
  held.hold(event('slow'));
  t.mock.timers.tick(100);
  held.drop('quick'); // its result is being published
  t.mock.timers.tick(1000);
  assert.deepEqual(sent, ['slow']);
});

test('progress or output before the hold ends sends the accepted event first, at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: string[] = [];
  const held = new HeldAccepted(250, (e) => sent.push(e.orderId));
  held.hold(event('o1'));
  t.mock.timers.tick(10);
  held.send('o1');
  assert.deepEqual(sent, ['o1']);
  t.mock.timers.tick(1000);
  assert.deepEqual(sent, ['o1'], 'the timer no longer fires');
});
