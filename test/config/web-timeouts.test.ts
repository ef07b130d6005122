import assert from 'node:assert/strict';

import { settingsErrorOf, settingsOf } from './fixtures.js';

describe('--web.header-timeout and --web.request-timeout', () => {
  it('default to 10s and 30s', () => {
    const { web } = settingsOf([]);
    assert.equal(web.headerTimeoutMs, 10_000);
    assert.equal(web.requestTimeoutMs, 30_000);
  });

  it('take 1s, and a header timeout equal to the request timeout', () => {
    const { web } = settingsOf(['--web.header-timeout=1s'], { WEB_REQUEST_TIMEOUT: '1s' });
    assert.equal(web.headerTimeoutMs, 1000);
    assert.equal(web.requestTimeoutMs, 1000);
  });

  it('refuse less than 1s', () => {
    for (const name of ['web.header-timeout', 'web.request-timeout']) {
      const err = settingsErrorOf([`--${name}=999ms`]);
      assert.equal(err.code, 'INVALID_SETTING');
      assert.equal(err.flag, `--${name}`);
      assert.match(err.message, /shorter than the minimum 1s/);
    }
  });

  it('blame the header timeout when both are given and it is the longer', () => {
    const err = settingsErrorOf(['--web.header-timeout=20s', '--web.request-timeout=15s']);
    assert.equal(err.flag, '--web.header-timeout');
    assert.equal(err.envVar, 'WEB_HEADER_TIMEOUT');
    assert.equal(
      err.message,
      'invalid --web.header-timeout (WEB_HEADER_TIMEOUT): must not be longer than ' +
        '--web.request-timeout (WEB_REQUEST_TIMEOUT)',
    );
  });

  it('blame the request timeout when only it is given, below the default header timeout', () => {
    const err = settingsErrorOf([], { WEB_REQUEST_TIMEOUT: '5s' });
    assert.equal(err.flag, '--web.request-timeout');
    assert.equal(
      err.message,
      'invalid --web.request-timeout (WEB_REQUEST_TIMEOUT): must not be shorter than ' +
        '--web.header-timeout (WEB_HEADER_TIMEOUT)',
    );
  });
});
