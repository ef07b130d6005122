import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { demoCommand, demoSettings, runName } from '../../scripts/demo/options.js';
import { describeDemo } from '../../scripts/demo/nats-demo.js';

function parse(args: string[], run = 'r1') {
  const command = demoCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  command.parse(args, { from: 'user' });
  return demoSettings(command, run);
}

describe('demo options', () => {
  it('has the documented defaults', () => {
    const settings = parse([]);
    assert.equal(settings.natsUrl, 'nats://127.0.0.1:4222');
    assert.equal(settings.subjectPrefix, 'lnd');
    assert.deepEqual(settings.nodes, ['demo-r1']);
    assert.equal(settings.speed, 360);
    assert.equal(settings.peers, 40);
    assert.equal(settings.channels, 120);
    assert.equal(settings.historyMs, 6 * 3_600_000);
    assert.equal(settings.durationMs, undefined);
  });

  it('takes several --node names, or --nodes N as demo-<run>-1 … demo-<run>-N', () => {
    assert.deepEqual(parse(['--node', 'a', 'b']).nodes, ['a', 'b']);
    assert.deepEqual(parse(['--node', 'a', '--node', 'b']).nodes, ['a', 'b']);
    assert.deepEqual(parse(['--nodes', '3']).nodes, ['demo-r1-1', 'demo-r1-2', 'demo-r1-3']);
  });

  it('names its nodes after the run, so that a second run never replays onto the first', () => {
    const first = runName(Date.parse('2026-12-06T10:00:00Z'));
    const second = runName(Date.parse('2026-12-06T10:00:00.001Z'));
    assert.notEqual(first, second);
    assert.match(first, /^[0-9a-z]+$/);
    assert.notDeepEqual(parse([], first).nodes, parse([], second).nodes);
    assert.notDeepEqual(
      parse(['--nodes', '2'], first).nodes,
      parse(['--nodes', '2'], second).nodes,
    );
  });

  it('reads durations, speed and seed', () => {
    const settings = parse([
      '--history',
      '2d',
      '--duration',
      '90s',
      '--speed',
      '120',
      '--seed',
      '9',
    ]);
    assert.equal(settings.historyMs, 2 * 86_400_000);
    assert.equal(settings.durationMs, 90_000);
    assert.equal(settings.speed, 120);
    assert.equal(settings.seed, 9);
  });

  it('refuses node names that are not one subject token, and bad numbers', () => {
    for (const args of [
      ['--node', 'a.b'],
      ['--node', 'a*'],
      ['--nats.subject-prefix', 'lnd.>'],
      ['--speed', '0.5'],
      ['--nodes', '0'],
      ['--history', 'soon'],
      ['--node', 'x', '--nodes', '2'],
    ]) {
      assert.throws(() => parse(args), CommanderError, args.join(' '));
    }
  });

  it('describes subjects and catch-up time at start', () => {
    const text = describeDemo(parse(['--nats.subject-prefix', 'my.lnd']));
    assert.match(text, /my\.lnd\.demo-r1\.channel_events/);
    assert.match(text, /my\.lnd\.demo-r1\.rpc\.list_channels/);
    assert.match(text, /at 360x, catches up with now in ~1m/);
  });
});
