import assert from 'node:assert/strict';
import { storeErrorMessage } from '../../src/persistence/errors.js';

describe('storeErrorMessage', () => {
  it('says what failed, also for an AggregateError without a message of its own', () => {
    assert.equal(storeErrorMessage(new Error('connect ECONNREFUSED')), 'connect ECONNREFUSED');
    assert.equal(
      storeErrorMessage(
        new AggregateError([
          new Error('connect ECONNREFUSED ::1:6379'),
          new Error('connect ECONNREFUSED 127.0.0.1:6379'),
        ]),
      ),
      'connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379',
    );
    assert.equal(storeErrorMessage(new AggregateError([], 'all failed')), 'all failed');
    assert.equal(storeErrorMessage('text'), 'text');
  });
});
