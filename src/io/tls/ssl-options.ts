// TLS settings for one namespace (`rpc` or `ui`), read from `flint.ssl.*` keys: Spark's SSLOptions
// (core/.../SSLOptions.scala, `SSLOptions.parse`) with PEM files in place of Java key stores.
//
// A key is looked up in its namespace first (`flint.ssl.rpc.keyFile`), then in the shared block
// (`flint.ssl.keyFile`), as Spark's namespaces inherit from `spark.ssl.*`. Spark's PEM names `privateKey` and
// `certChain` are accepted for `keyFile` and `certFile`. Every file is read and the key, the certificate and
// the CAs are checked together when the settings are read, so a daemon with a bad block stops at start with a
// ConfigError naming the key, not at its first connection. See docs/security.md, "TLS".
//
// Secrets: a key password is read only from a file (`keyPasswordFile`); its text never enters a log line, an
// error, a message or a command line. `keyPassword` in the conf is refused with a message saying so.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as NodeTls from 'node:tls';
import type { SecureContextOptions } from 'node:tls';
import type { FlintConf } from '../../conf/flint-conf.ts';
import { ConfigError } from '../../errors.ts';

/** `rpc`: every RPC port and connection. `ui`: every HTTP port (master and worker web UIs). */
export type SslNamespace = 'rpc' | 'ui';

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];
/** `flint.ssl.protocol`'s default. Every Flint process runs Node 24; Spark's RPC default list is TLSv1.3, TLSv1.2. */
const DEFAULT_PROTOCOL: TlsVersion = 'TLSv1.3';

/** Resolved settings of one namespace; file contents are loaded and checked. */
export interface SslOptions {
  readonly namespace: SslNamespace;
  /** Paths as configured, for log lines (never the contents). */
  readonly keyFile: string | undefined;
  readonly certFile: string | undefined;
  readonly trustedCaFile: string | undefined;
  /** `needClientAuth`: a server asks every client for a certificate signed by a trusted CA (mutual TLS). */
  readonly needClientAuth: boolean;
  /** `protocol`: the lowest TLS version accepted. */
  readonly minVersion: TlsVersion;
  /** What node:tls takes for both sides: key, cert, ca, passphrase, minVersion, ciphers. */
  readonly secureContext: SecureContextOptions;
}

/** Spark's name for the namespace of the master and worker UIs, accepted after `ui`. */
const NAMESPACE_ALIASES: Readonly<Record<SslNamespace, readonly string[]>> = { rpc: ['rpc'], ui: ['ui', 'standalone'] };

/** The keys of one setting in lookup order: namespace first, then the shared block; aliases after each. */
function candidates(ns: SslNamespace, names: readonly string[]): string[] {
  const scoped = NAMESPACE_ALIASES[ns].flatMap((space) => names.map((n) => `flint.ssl.${space}.${n}`));
  return [...scoped, ...names.map((n) => `flint.ssl.${n}`)];
}

interface Found {
  readonly key: string;
  readonly value: string;
}

function lookup(conf: FlintConf, ns: SslNamespace, ...names: string[]): Found | undefined {
  for (const key of candidates(ns, names)) {
    const value = conf.get(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

function readPem(found: Found): Buffer {
  try {
    return readFileSync(found.value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(found.key, `${found.key}=${found.value} cannot be read (${code}); expected a readable PEM file`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A PEM file of one or more certificates; each is parsed, since OpenSSL skips what it cannot read in a CA list. */
function readCertificates(found: Found): Buffer {
  const pem = readPem(found);
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new ConfigError(found.key, `${found.key}=${found.value} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new ConfigError(found.key, `${found.key}=${found.value}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  });
  return pem;
}

const SSL_KEY = /^(flint|spark)\.ssl\./;
const PASSWORD_IN_CONF = /\.(keyPassword|privateKeyPassword|keyStorePassword|trustStorePassword)$/;

/**
 * The `flint.ssl.*` entries a process passes on to the executors and drivers it has started, so they dial and
 * listen as it does (Spark's executor startup confs, `spark.ssl.*`). They are file paths and switches, never a
 * password (`keyPasswordFile` is the path of the file that holds one); a password given in the conf is not
 * passed on (it is refused at start anyway).
 */
export function sslConfToPassOn(conf: FlintConf): Array<[string, string]> {
  return conf.entries().filter(([key]) => SSL_KEY.test(key) && !PASSWORD_IN_CONF.test(key));
}

/** node:tls, loaded only when TLS is on: every process reads these settings, and most have TLS off. */
export function tlsModule(): typeof NodeTls {
  return process.getBuiltinModule('node:tls');
}

/** `enabled` for the namespace: its own key, else `flint.ssl.enabled`, else false. */
export function sslEnabled(conf: FlintConf, ns: SslNamespace): boolean {
  const found = lookup(conf, ns, 'enabled');
  return found === undefined ? false : conf.getBoolean(found.key, false);
}

/**
 * Reads and checks the namespace's settings; undefined when TLS is off there. `listens`: this process
 * accepts connections in the namespace, so a key and a certificate are required (a client-mode env presents
 * them only when it has them, for a server that needs client authentication).
 */
export function readSslOptions(conf: FlintConf, ns: SslNamespace, { listens }: { listens: boolean }): SslOptions | undefined {
  if (!sslEnabled(conf, ns)) return undefined;
  const where = `flint.ssl.${ns}`;
  refuseSparkOnlyKeys(conf, ns);
  const keyFile = lookup(conf, ns, 'keyFile', 'privateKey');
  const certFile = lookup(conf, ns, 'certFile', 'certChain');
  const caFile = lookup(conf, ns, 'trustedCaFile');
  const passwordFile = lookup(conf, ns, 'keyPasswordFile');
  const needClientAuthKey = lookup(conf, ns, 'needClientAuth');
  const needClientAuth = needClientAuthKey === undefined ? false : conf.getBoolean(needClientAuthKey.key, false);
  if ((keyFile === undefined) !== (certFile === undefined)) {
    const missing = keyFile === undefined ? 'keyFile' : 'certFile';
    throw new ConfigError(`${where}.${missing}`, `TLS is on for ${ns} with only one of flint.ssl.keyFile and flint.ssl.certFile; set both (or ${where}.*)`);
  }
  if (listens && keyFile === undefined) {
    throw new ConfigError(
      `${where}.keyFile`,
      `TLS is on for ${ns} (${where}.enabled) but no private key and certificate are set: set flint.ssl.keyFile and flint.ssl.certFile (PEM files), or ${where}.keyFile and ${where}.certFile`,
    );
  }
  if (needClientAuth && caFile === undefined) {
    throw new ConfigError(`${where}.trustedCaFile`, `${needClientAuthKey?.key ?? 'needClientAuth'}=true needs flint.ssl.trustedCaFile: the CAs that sign the clients' certificates`);
  }
  const minVersion = protocolOf(conf, ns);
  const ciphersFound = lookup(conf, ns, 'enabledAlgorithms');
  const ciphers = ciphersFound?.value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0)
    .join(':');
  const secureContext: SecureContextOptions = {
    minVersion,
    ...(keyFile && certFile ? { key: readPem(keyFile), cert: readCertificates(certFile) } : {}),
    ...(caFile ? { ca: readCertificates(caFile) } : {}),
    ...(passwordFile ? { passphrase: readPassword(passwordFile) } : {}),
    ...(ciphers ? { ciphers } : {}),
  };
  checkTogether(secureContext, { keyFile, certFile, caFile, passwordFile, ciphersFound });
  return {
    namespace: ns,
    keyFile: keyFile?.value,
    certFile: certFile?.value,
    trustedCaFile: caFile?.value,
    needClientAuth,
    minVersion,
    secureContext,
  };
}

/** Spark's password keys and Java key stores: refused with what to set instead (the value is never shown). */
function refuseSparkOnlyKeys(conf: FlintConf, ns: SslNamespace): void {
  for (const name of ['keyPassword', 'privateKeyPassword', 'keyStorePassword', 'trustStorePassword']) {
    const found = lookup(conf, ns, name);
    if (found !== undefined) {
      throw new ConfigError(
        found.key,
        `${found.key} is not read: Flint takes no password in its configuration; put the private key's password in a file readable only by this user and set flint.ssl.keyPasswordFile`,
      );
    }
  }
  for (const name of ['keyStore', 'trustStore']) {
    const found = lookup(conf, ns, name);
    if (found !== undefined) {
      throw new ConfigError(found.key, `${found.key}: Flint reads PEM files, not Java key stores; set flint.ssl.keyFile, flint.ssl.certFile and flint.ssl.trustedCaFile`);
    }
  }
}

function protocolOf(conf: FlintConf, ns: SslNamespace): TlsVersion {
  const found = lookup(conf, ns, 'protocol');
  if (found === undefined) return DEFAULT_PROTOCOL;
  // Spark's name "TLS" means the JDK's default set; here it means the lowest version Flint accepts.
  const text = found.value.trim() === 'TLS' ? 'TLSv1.2' : found.value.trim();
  const version = TLS_VERSIONS.find((v) => v.toLowerCase() === text.toLowerCase());
  if (version === undefined) {
    throw new ConfigError(found.key, `${found.key}=${JSON.stringify(found.value)} is not a TLS version Flint accepts; expected ${TLS_VERSIONS.join(' or ')} (the lowest version allowed)`);
  }
  return version;
}

function readPassword(found: Found): string {
  let text: string;
  try {
    text = readFileSync(found.value, 'utf8');
  } catch (err) {
    throw new ConfigError(found.key, `${found.key}=${found.value} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password.length === 0) throw new ConfigError(found.key, `${found.key}=${found.value} is empty; expected the private key's password`);
  return password;
}

/**
 * Builds a secure context once, so a bad file or a key that does not match its certificate fails here. OpenSSL's
 * message is turned into one naming the key to fix. The password's text is never part of the message.
 */
function checkTogether(
  options: SecureContextOptions,
  keys: { keyFile?: Found | undefined; certFile?: Found | undefined; caFile?: Found | undefined; passwordFile?: Found | undefined; ciphersFound?: Found | undefined },
): void {
  try {
    tlsModule().createSecureContext(options);
  } catch (err) {
    const e = err as Error & { code?: string; library?: string; reason?: string };
    const reason = e.reason ?? e.message;
    const name = (found: Found | undefined, fallback: string): string => (found ? `${found.key}=${found.value}` : fallback);
    if (/key values mismatch/i.test(reason)) {
      throw new ConfigError(keys.keyFile?.key ?? 'flint.ssl.keyFile', `${name(keys.keyFile, 'the private key')} does not match the certificate in ${name(keys.certFile, 'the certificate file')}`);
    }
    if (/bad decrypt|bad password|interrupted or cancelled|maybe wrong password/i.test(reason)) {
      throw new ConfigError(keys.passwordFile?.key ?? 'flint.ssl.keyPasswordFile', `${name(keys.keyFile, 'the private key')} cannot be decrypted: it is encrypted and flint.ssl.keyPasswordFile is missing or holds the wrong password`);
    }
    if (/cipher/i.test(reason) && keys.ciphersFound) {
      throw new ConfigError(keys.ciphersFound.key, `${name(keys.ciphersFound, '')} names no cipher suite this Node supports (${reason})`);
    }
    const culprit = whichFile(options, keys);
    const what = culprit === undefined ? '' : culprit === keys.keyFile ? ' (expected a PEM private key)' : ' (expected PEM certificates)';
    throw new ConfigError(culprit?.key ?? 'flint.ssl', `${culprit ? `${culprit.key}=${culprit.value}` : 'the TLS settings'} cannot be used${what}: ${reason}`);
  }
}

/** Finds the file OpenSSL refused by loading each part alone. */
function whichFile(
  options: SecureContextOptions,
  keys: { keyFile?: Found | undefined; certFile?: Found | undefined; caFile?: Found | undefined; passwordFile?: Found | undefined },
): Found | undefined {
  const tries: Array<[Found | undefined, SecureContextOptions]> = [
    [keys.caFile, { ca: options.ca }],
    [keys.certFile, { cert: options.cert }],
    [keys.keyFile, { key: options.key, passphrase: options.passphrase }],
  ];
  for (const [found, partial] of tries) {
    if (found === undefined) continue;
    try {
      tlsModule().createSecureContext(partial);
    } catch {
      return found;
    }
  }
  return undefined;
}
