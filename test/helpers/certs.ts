// Certificates made at run time for the TLS tests, with the `openssl` command (execFile, no shell) in a temp
// dir: a CA, a server certificate for localhost and 127.0.0.1 signed by it, a client certificate signed by it,
// and a second CA that signs nothing Flint trusts. P-256 keys: fast to make. Valid for one day.
//
// scripts/test-deps.sh installs openssl when it is missing; without it these helpers fail saying so.

import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  /** A CA that signed none of the certificates below. */
  readonly otherCaFile: string;
  readonly serverKeyFile: string;
  /** Names DNS:localhost and IP:127.0.0.1. */
  readonly serverCertFile: string;
  readonly clientKeyFile: string;
  readonly clientCertFile: string;
  /** The server key again, encrypted with the password in `keyPasswordFile`. */
  readonly encryptedServerKeyFile: string;
  readonly keyPasswordFile: string;
  /** A certificate for a name that is not this host (DNS:elsewhere.invalid), signed by the CA. */
  readonly wrongHostKeyFile: string;
  readonly wrongHostCertFile: string;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('openssl', [...args], { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the TLS tests need the openssl command: run scripts/test-deps.sh (apt-get install openssl)', { cause: err });
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=Flint test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

async function makeLeaf(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`);
  await openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`],
    dir,
  );
}

/**
 * Makes `<name>.key` and `<name>.pem` in `dir` (where makeTestCerts made the CA): a certificate signed by the test
 * CA for the given DNS names and IP addresses, for both server and client authentication (a host of
 * test/helpers/netns.ts presents it whichever way it connects). Returns the key's and the certificate's paths.
 */
export async function makeHostCert(dir: string, name: string, { dns = [], ips = [] }: { dns?: readonly string[]; ips?: readonly string[] }): Promise<{ keyFile: string; certFile: string }> {
  const names = [...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)];
  if (names.length === 0) throw new RangeError('a host certificate needs at least one DNS name or IP address');
  await makeLeaf(dir, name, `/CN=${dns[0] ?? ips[0]}`, `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth,clientAuth`);
  chmodSync(join(dir, `${name}.key`), 0o600);
  return { keyFile: join(dir, `${name}.key`), certFile: join(dir, `${name}.pem`) };
}

/** Makes every certificate in `dir` (an empty temp dir the caller removes). */
export async function makeTestCerts(dir: string): Promise<TestCerts> {
  await makeCa(dir, 'ca');
  await makeCa(dir, 'other-ca');
  await makeLeaf(dir, 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth');
  await makeLeaf(dir, 'client', '/CN=flint-client', 'extendedKeyUsage=clientAuth');
  await makeLeaf(dir, 'wrong-host', '/CN=elsewhere.invalid', 'subjectAltName=DNS:elsewhere.invalid\nextendedKeyUsage=serverAuth');
  const keyPasswordFile = join(dir, 'key-password');
  writeFileSync(keyPasswordFile, 'test-key-pass-Zr8q\n', { mode: 0o600 });
  await openssl(['pkey', '-in', 'server.key', '-aes256', '-passout', `file:${keyPasswordFile}`, '-out', 'server-encrypted.key'], dir);
  for (const key of ['ca.key', 'other-ca.key', 'server.key', 'client.key', 'wrong-host.key', 'server-encrypted.key']) chmodSync(join(dir, key), 0o600);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverKeyFile: join(dir, 'server.key'),
    serverCertFile: join(dir, 'server.pem'),
    clientKeyFile: join(dir, 'client.key'),
    clientCertFile: join(dir, 'client.pem'),
    encryptedServerKeyFile: join(dir, 'server-encrypted.key'),
    keyPasswordFile,
    wrongHostKeyFile: join(dir, 'wrong-host.key'),
    wrongHostCertFile: join(dir, 'wrong-host.pem'),
  };
}

/** The `flint.ssl.*` block that turns TLS on with the server certificate and the test CA (as conf pairs). */
export function tlsConfPairs(certs: TestCerts, extra: Readonly<Record<string, string>> = {}): Array<[string, string]> {
  return Object.entries({
    'flint.ssl.enabled': 'true',
    'flint.ssl.keyFile': certs.serverKeyFile,
    'flint.ssl.certFile': certs.serverCertFile,
    'flint.ssl.trustedCaFile': certs.caFile,
    ...extra,
  });
}
