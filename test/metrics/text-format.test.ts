import assert from 'node:assert/strict';
import { escapeHelp, escapeLabelValue, formatSampleValue } from '../../src/metrics/text-format.js';
import { parseExposition } from './text-format-parser.js';

describe('text format', () => {
  it('formats sample values as Prometheus parses them', () => {
    assert.equal(formatSampleValue(0), '0');
    assert.equal(formatSampleValue(-0), '0');
    assert.equal(formatSampleValue(10800), '10800');
    assert.equal(formatSampleValue(1704067200), '1704067200');
    assert.equal(formatSampleValue(2 ** 53), '9007199254740992');
    assert.equal(formatSampleValue(1704067200.123), '1704067200.123');
    assert.equal(formatSampleValue(1 / 3), '0.3333333333333333');
    assert.equal(Number(formatSampleValue(1 / 3)), 1 / 3);
    assert.equal(formatSampleValue(1e-7), '1e-7');
    assert.equal(formatSampleValue(NaN), 'NaN');
    assert.equal(formatSampleValue(Infinity), '+Inf');
    assert.equal(formatSampleValue(-Infinity), '-Inf');
  });

  it('escapes label values and HELP texts', () => {
    assert.equal(escapeLabelValue('02abc'), '02abc');
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeHelp('a\\b"c\nd'), 'a\\\\b"c\\nd');
  });
});

describe('the test parser of the text format', () => {
  const valid = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"\\\\\\n"} 2\n';

  it('parses valid text', () => {
    const families = parseExposition(valid);
    assert.deepEqual(families.get('a_total')?.samples, [
      { name: 'a_total', labels: { x: '1', y: 'q"\\\n' }, value: 2 },
    ]);
  });

  for (const [what, text] of [
    ['a second TYPE', `${valid}# TYPE a_total counter\n`],
    ['a split family', `${valid}b 1\na_total{x="2"} 1\n`],
    ['a TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['a bad escape', 'a{x="\\q"} 1\n'],
    ['a bad value', 'a 1,5\n'],
    ['Nan spelled wrong', 'a Nan\n'],
    ['a missing newline at the end', 'a 1'],
    ['a label twice', 'a{x="1",x="2"} 1\n'],
    ['labels without comma', 'a{x="1"y="2"} 1\n'],
  ] as const) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseExposition(text));
    });
  }
});
