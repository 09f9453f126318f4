// flint.deploy.recoveryMode: which store and election a master gets, and the ConfigErrors for bad keys.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { createRecoveryMode } from '../../../src/daemons/recovery-mode.ts';
import { ConfigError } from '../../../src/errors.ts';
import { FilePersistenceStore } from '../../../src/io/file-store/file-persistence-store.ts';
import { ZooKeeperLeaderElection } from '../../../src/io/zookeeper/zookeeper-leader-election.ts';
import { ZooKeeperPersistenceStore } from '../../../src/io/zookeeper/zookeeper-persistence-store.ts';
import { MonarchyLeaderElection } from '../../../src/ports/leader-election.ts';
import { InMemoryPersistenceStore, NullPersistenceStore } from '../../../src/ports/persistence-store.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const conf = (pairs: Record<string, string>) => new FlintConf(Object.entries(pairs));
const refused = (key: string, pattern: RegExp) => (err: unknown) => err instanceof ConfigError && err.key === key && pattern.test(err.message);

describe('createRecoveryMode', () => {
  test('NONE by default: nothing kept, the only master leads', async () => {
    const mode = await createRecoveryMode(conf({}), silentLogger);
    assert.equal(mode.mode, 'NONE');
    assert.ok(mode.store instanceof NullPersistenceStore);
    assert.ok(mode.election instanceof MonarchyLeaderElection);
  });

  test('an unknown mode is refused, naming the key and the choices', async () => {
    await assert.rejects(createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'ROCKSDB' }), silentLogger), refused('flint.deploy.recoveryMode', /NONE, FILESYSTEM, ZOOKEEPER, CUSTOM/));
  });

  test('FILESYSTEM needs flint.deploy.recoveryDirectory, and opens it (case-insensitive mode)', async () => {
    await assert.rejects(createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'FILESYSTEM' }), silentLogger), refused('flint.deploy.recoveryDirectory', /needs/));
    const dir = join(tempDir('flint-rm-'), 'recovery');
    const mode = await createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'filesystem', 'flint.deploy.recoveryDirectory': dir }), silentLogger);
    assert.ok(mode.store instanceof FilePersistenceStore);
    assert.ok(mode.election instanceof MonarchyLeaderElection);
    await mode.store.close();
  });

  test('ZOOKEEPER needs flint.deploy.zookeeper.url; a bad dir or session timeout is refused', async () => {
    await assert.rejects(createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'ZOOKEEPER' }), silentLogger), refused('flint.deploy.zookeeper.url', /needs/));
    const zk = { 'flint.deploy.recoveryMode': 'ZOOKEEPER', 'flint.deploy.zookeeper.url': '127.0.0.1:1' };
    await assert.rejects(createRecoveryMode(conf({ ...zk, 'flint.deploy.zookeeper.dir': 'flint' }), silentLogger), refused('flint.deploy.zookeeper.dir', /absolute znode path/));
    await assert.rejects(createRecoveryMode(conf({ ...zk, 'flint.deploy.zookeeper.sessionTimeout': 'soon' }), silentLogger), (err: unknown) => err instanceof ConfigError);
    const mode = await createRecoveryMode(conf(zk), silentLogger);
    assert.ok(mode.store instanceof ZooKeeperPersistenceStore);
    assert.ok(mode.election instanceof ZooKeeperLeaderElection);
    await mode.election.close();
    await mode.store.close();
  });

  test('CUSTOM loads the factory module; a missing module or a bad export is refused', async () => {
    await assert.rejects(createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'CUSTOM' }), silentLogger), refused('flint.deploy.recoveryMode.factory', /needs/));
    const dir = tempDir('flint-rm-');
    await assert.rejects(
      createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'CUSTOM', 'flint.deploy.recoveryMode.factory': join(dir, 'missing.mjs') }), silentLogger),
      refused('flint.deploy.recoveryMode.factory', /cannot be loaded/),
    );
    writeFileSync(join(dir, 'bad.mjs'), 'export const createRecoveryMode = () => ({ store: {} });\n');
    await assert.rejects(
      createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'CUSTOM', 'flint.deploy.recoveryMode.factory': join(dir, 'bad.mjs') }), silentLogger),
      refused('flint.deploy.recoveryMode.factory', /not \{ store/),
    );
    const portsDir = join(import.meta.dirname, '../../../src/ports');
    writeFileSync(
      join(dir, 'good.mjs'),
      `import { InMemoryPersistenceStore } from '${portsDir}/persistence-store.ts';\nimport { MonarchyLeaderElection } from '${portsDir}/leader-election.ts';\nexport default () => ({ store: new InMemoryPersistenceStore(), election: new MonarchyLeaderElection() });\n`,
    );
    const mode = await createRecoveryMode(conf({ 'flint.deploy.recoveryMode': 'CUSTOM', 'flint.deploy.recoveryMode.factory': 'good.mjs' }), silentLogger, dir);
    assert.equal(mode.mode, 'CUSTOM');
    assert.ok(mode.store instanceof InMemoryPersistenceStore);
  });
});
