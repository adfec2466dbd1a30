import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuUtilization, parseProcStat, readCpuTimes } from '../../src/host/cpu.js';
import { parseMeminfo, readMemory } from '../../src/host/memory.js';
import { FilesystemReader, parseMounts, selectMounts, type FilesystemFilter, type StatfsFigures } from '../../src/host/filesystem.js';

const NO_FILTER: FilesystemFilter = { includeVirtualFilesystems: false };

test('CPU utilisation is the busy share of the jiffies between two /proc/stat readings, guest time not counted twice', () => {
  const before = parseProcStat(
    'cpu  1000 100 500 8000 200 10 20 30 400 0\ncpu0 500 50 250 4000 100 5 10 15 200 0\ncpu1 500 50 250 4000 100 5 10 15 200 0\nintr 1 2 3\n',
  );
  // total = 1000+100+500+8000+200+10+20+30 = 9860 (guest 400 is inside user); busy = total - idle - iowait = 1660
  assert.deepEqual(before, { busy: 1660, total: 9860, logicalCount: 2 });
  const after = parseProcStat('cpu  1300 100 600 8500 300 10 20 30 400 0\ncpu0 x\ncpu1 x\n'.replace(/x/g, '0 0 0 0'));
  // Δuser 300, Δsystem 100, Δidle 500, Δiowait 100: Δtotal = 1000, Δbusy = 400
  assert.equal(cpuUtilization(before, after), 400 / 1000);
  assert.equal(cpuUtilization(after, after), undefined, 'no time passed: no figure');
  assert.throws(() => parseProcStat('intr 1 2\n'), /no aggregate cpu line/);
});

test('memory: used is MemTotal minus MemAvailable, in bytes; without MemAvailable, free + buffers + cached is available', () => {
  const m = parseMeminfo('MemTotal:       16000000 kB\nMemFree:         2000000 kB\nMemAvailable:   10000000 kB\nBuffers:          100000 kB\nCached:          5000000 kB\nHugePages_Total:       0\n');
  assert.deepEqual(m, { totalBytes: 16000000 * 1024, availableBytes: 10000000 * 1024, usedBytes: 6000000 * 1024, utilizationRatio: 6 / 16 });
  const old = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n');
  assert.equal(old.availableBytes, 400 * 1024);
  assert.equal(old.usedBytes, 600 * 1024);
});

test('mounts: octal escapes decoded; pseudo file systems, excluded and repeated mounts left out', () => {
  const mounts = parseMounts(
    [
      'proc /proc proc rw 0 0',
      'sysfs /sys sysfs rw 0 0',
      'tmpfs /dev/shm tmpfs rw 0 0',
      '/dev/vda / ext4 rw 0 0',
      'overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0',
      '/dev/vda /etc/hosts ext4 rw 0 0',
      '/dev/sdb1 /mnt/my\\040disk xfs rw 0 0',
      'server:/export /mnt/nfs nfs4 rw 0 0',
      '/dev/sdc1 /data ext4 rw 0 0',
      '/dev/sdd1 /data btrfs rw 0 0',
      '',
    ].join('\n'),
  );
  assert.equal(mounts[6]!.mountpoint, '/mnt/my disk');
  const filter: FilesystemFilter = {
    includeVirtualFilesystems: false,
    excludeMountPoints: { values: ['^/var/lib/docker/.+'], matchType: 'regexp' },
  };
  assert.deepEqual(
    selectMounts(mounts, filter).map((m) => `${m.device} ${m.mountpoint} ${m.type}`),
    // /etc/hosts is /dev/vda again; /data was mounted over by /dev/sdd1.
    ['/dev/vda / ext4', '/dev/sdb1 /mnt/my disk xfs', 'server:/export /mnt/nfs nfs4', '/dev/sdd1 /data btrfs'],
  );
  assert.deepEqual(
    selectMounts(mounts, { includeVirtualFilesystems: false, includeFsTypes: { values: ['ext4', 'xfs'], matchType: 'strict' } }).map((m) => m.mountpoint),
    ['/', '/mnt/my disk'],
  );
  assert.deepEqual(
    selectMounts(mounts, { includeVirtualFilesystems: false, excludeFsTypes: { values: ['^nfs'], matchType: 'regexp' }, excludeDevices: { values: ['/dev/sdb1'], matchType: 'strict' } }).map((m) => m.mountpoint),
    ['/', '/var/lib/docker/overlay2/abc/merged', '/data'],
  );
  assert.ok(selectMounts(mounts, { includeVirtualFilesystems: true }).some((m) => m.type === 'proc'));
});

test('a statfs that never answers is given up at the timeout, counted as stuck, and not asked again while it hangs', async () => {
  let calls = 0;
  let release: (() => void) | undefined;
  const figures: StatfsFigures = { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300 };
  const statfs = (path: string): Promise<StatfsFigures> => {
    if (path !== '/mnt/nfs') return Promise.resolve(figures);
    calls++;
    if (calls > 1) return Promise.resolve(figures); // the server is back
    return new Promise((resolve) => (release = () => resolve(figures)));
  };
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const mountsFile = join(mkdtempSync(join(tmpdir(), 'mounts-')), 'mounts');
  writeFileSync(mountsFile, '/dev/vda / ext4 rw 0 0\nserver:/export /mnt/nfs nfs4 rw 0 0\n');
  const reader = new FilesystemReader({ filter: NO_FILTER, timeoutMs: 100, mountsFile, statfs });

  const first = await reader.read();
  assert.deepEqual(first.stuck, ['/mnt/nfs']);
  assert.deepEqual(first.filesystems.map((f) => f.mountpoint), ['/']);
  // size 1000 blocks; used (1000-400) blocks; available 300 blocks; Use% = 600 / (600 + 300)
  assert.deepEqual(first.filesystems[0], {
    device: '/dev/vda', mountpoint: '/', type: 'ext4',
    sizeBytes: 4096000, usedBytes: 600 * 4096, availableBytes: 300 * 4096, utilizationRatio: 600 / 900,
  });
  const second = await reader.read();
  assert.deepEqual(second.stuck, ['/mnt/nfs']);
  assert.equal(calls, 1, 'a stuck mount point is not asked again while its call hangs');
  release!();
  await new Promise((r) => setImmediate(r));
  const third = await reader.read();
  assert.deepEqual(third.stuck, []);
  assert.deepEqual(third.filesystems.map((f) => f.mountpoint), ['/', '/mnt/nfs']);
  assert.equal(calls, 2);
});

test('this machine: memory agrees with /proc/meminfo and the CPU count with /proc/stat', async () => {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)![1]) * 1024;
  const m = await readMemory();
  assert.equal(m.totalBytes, kb('MemTotal'));
  // MemAvailable moves between two reads: within 5% of total.
  assert.ok(Math.abs(m.availableBytes - kb('MemAvailable')) < 0.05 * m.totalBytes, `available ${m.availableBytes} vs ${kb('MemAvailable')}`);
  assert.equal(m.usedBytes + m.availableBytes, m.totalBytes);
  assert.ok(m.utilizationRatio > 0 && m.utilizationRatio < 1);

  const cpuLines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  const a = await readCpuTimes();
  assert.equal(a.logicalCount, cpuLines);
  await new Promise((r) => setTimeout(r, 200));
  const u = cpuUtilization(a, await readCpuTimes());
  assert.ok(u === undefined || (u >= 0 && u <= 1), `utilisation ${u}`);
});

test('this machine: every file system measured is one df lists, with the same size and near the same use', async () => {
  const df = execFileSync('df', ['-B1', '--output=target,size,used,avail'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .map((f) => ({ target: f[0]!, size: Number(f[1]), used: Number(f[2]), avail: Number(f[3]) }));
  const byTarget = new Map(df.map((d) => [d.target, d]));
  const { filesystems, stuck, failed } = await new FilesystemReader({ filter: NO_FILTER, timeoutMs: 5000 }).read();
  assert.deepEqual(stuck, []);
  assert.deepEqual(failed, []);
  assert.ok(filesystems.length > 0, 'no file system measured');
  for (const fs of filesystems) {
    const d = byTarget.get(fs.mountpoint);
    assert.ok(d, `${fs.mountpoint} is not in df's list`);
    assert.equal(fs.sizeBytes, d.size, `${fs.mountpoint} size`);
    // Other processes write meanwhile: within 1% of the size.
    const slack = 0.01 * d.size + 16 * 1024 * 1024;
    assert.ok(Math.abs(fs.usedBytes - d.used) <= slack, `${fs.mountpoint} used ${fs.usedBytes} vs df ${d.used}`);
    assert.ok(Math.abs(fs.availableBytes - d.avail) <= slack, `${fs.mountpoint} available ${fs.availableBytes} vs df ${d.avail}`);
    assert.ok(fs.utilizationRatio! >= 0 && fs.utilizationRatio! <= 1);
    assert.ok(!['proc', 'sysfs', 'tmpfs', 'devtmpfs', 'cgroup', 'cgroup2'].includes(fs.type), `${fs.type} is a pseudo file system`);
  }
  // The root file system is always measured (unless it is a pseudo one, as in some sandboxes).
  const root = parseMounts(readFileSync('/proc/self/mounts', 'utf8')).filter((m) => m.mountpoint === '/').at(-1)!;
  if (!['tmpfs', 'rootfs'].includes(root.type)) assert.ok(filesystems.some((f) => f.mountpoint === '/'), 'root file system missing');
});
