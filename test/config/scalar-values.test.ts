import assert from 'node:assert/strict';

import {
  parseBoolean,
  parseChoice,
  parseInteger,
  splitList,
} from '../../src/config/scalar-values.js';
import { InvalidValueError } from '../../src/config/settings-error.js';

describe('scalar values', () => {
  it('parseBoolean reads true/false, 1/0, yes/no in any case', () => {
    for (const text of ['true', 'TRUE', '1', 'yes', 'Yes', ' true ']) {
      assert.equal(parseBoolean(text), true, text);
    }
    for (const text of ['false', 'False', '0', 'no', 'NO']) {
      assert.equal(parseBoolean(text), false, text);
    }
    for (const text of ['', 'on', 'off', 'y', 'n', '2', 't']) {
      assert.throws(() => parseBoolean(text), InvalidValueError, text);
    }
  });

  it('parseInteger reads decimal digits only, with a minimum', () => {
    assert.equal(parseInteger('42', 1), 42);
    assert.equal(parseInteger(' 7 ', 1), 7);
    assert.equal(parseInteger('0', 0), 0);
    for (const text of ['', '1.5', '-1', '1e3', '0x10', 'ten', '99999999999999999999']) {
      assert.throws(() => parseInteger(text, 0), /is not a whole number/, text);
    }
    assert.throws(() => parseInteger('0', 1), /0 is less than the minimum 1/);
  });

  it('parseChoice takes one of the choices, exactly', () => {
    assert.equal(parseChoice('b', ['a', 'b']), 'b');
    assert.throws(() => parseChoice('B', ['a', 'b']), /"B" is not one of a, b/);
  });

  it('splitList trims items and refuses empty ones', () => {
    assert.deepEqual(splitList(' a , b,c'), ['a', 'b', 'c']);
    assert.throws(() => splitList('a,,b'), /empty item/);
    assert.throws(() => splitList('a,'), /empty item/);
  });
});
