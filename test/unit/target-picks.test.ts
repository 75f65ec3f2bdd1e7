/** The target picker's rows (bpf-ide: Select Target): what is offered, in which order, each once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { targetPicks } from '../../client/src/core/targets/target-picks';

test('local first, then ~/.ssh/config Hosts, then recent targets, then a row to type one', () => {
  const rows = targetPicks('local', ['testbox', 'lab'], ['ssh://root@10.0.0.5:2222']);
  assert.deepEqual(
    rows.map((r) => [r.spec, r.description]),
    [
      ['local', 'this machine · current'],
      ['testbox', 'Host in ~/.ssh/config'],
      ['lab', 'Host in ~/.ssh/config'],
      ['ssh://root@10.0.0.5:2222', 'used before'],
      [undefined, 'ssh://user@host[:port], a Host alias or vm:/path/to/vmlinuz'],
    ],
  );
  assert.match(rows[rows.length - 1].label, /Enter a target/);
});

test('each target is offered once; the current one is marked wherever it comes from', () => {
  const rows = targetPicks('testbox', ['testbox'], ['testbox', 'ssh://me@box', 'local']);
  assert.deepEqual(
    rows.map((r) => r.spec),
    ['local', 'testbox', 'ssh://me@box', undefined],
  );
  assert.equal(rows[1].description, 'Host in ~/.ssh/config · current');
});

test('a target set only in the settings is still offered, marked current', () => {
  const rows = targetPicks('ssh://root@10.1.2.3', [], []);
  assert.deepEqual(
    rows.map((r) => [r.spec, r.description]),
    [
      ['local', 'this machine'],
      ['ssh://root@10.1.2.3', 'from the bpfIde.target setting · current'],
      [undefined, 'ssh://user@host[:port], a Host alias or vm:/path/to/vmlinuz'],
    ],
  );
});

test('VM kernels come after the ssh Hosts, each once, the current one marked', () => {
  const vms = [
    { spec: 'vm:6.1', description: 'Linux 6.1 in a VM (qemu), cached' },
    { spec: 'vm:6.12', description: 'Linux 6.12 in a VM (qemu), fetched on first use' },
  ];
  const rows = targetPicks('vm:6.12', ['lab'], ['vm:6.1'], vms);
  assert.deepEqual(
    rows.map((r) => [r.spec, r.description]),
    [
      ['local', 'this machine'],
      ['lab', 'Host in ~/.ssh/config'],
      ['vm:6.1', 'Linux 6.1 in a VM (qemu), cached'],
      ['vm:6.12', 'Linux 6.12 in a VM (qemu), fetched on first use · current'],
      [undefined, 'ssh://user@host[:port], a Host alias or vm:/path/to/vmlinuz'],
    ],
  );
});
