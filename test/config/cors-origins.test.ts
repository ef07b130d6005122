import assert from 'node:assert/strict';

import { parseCorsOrigins } from '../../src/config/cors-origins.js';
import { InvalidValueError } from '../../src/config/settings-error.js';

describe('parseCorsOrigins', () => {
  it('reads origins, normalized as browsers send them', () => {
    assert.deepEqual(
      parseCorsOrigins(
        'https://Grafana.Example.com/, http://localhost:3000, https://a.example:443',
      ),
      ['https://grafana.example.com', 'http://localhost:3000', 'https://a.example'],
    );
  });

  it('drops duplicates', () => {
    assert.deepEqual(parseCorsOrigins('https://a.example,https://a.example/'), [
      'https://a.example',
    ]);
  });

  it('reads * alone', () => {
    assert.deepEqual(parseCorsOrigins('*'), ['*']);
    assert.throws(() => parseCorsOrigins('*,https://a.example'), /cannot be listed with others/);
  });

  for (const text of [
    'grafana.example.com',
    'ftp://a.example',
    'https://a.example/path',
    'https://a.example?x=1',
    'https://a.example#x',
    'https://user@a.example',
    'https://a.example,',
    'null',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseCorsOrigins(text), InvalidValueError);
    });
  }
});
