/**
 * The one place a connection to Temporal is built: the worker, `npm run check`, the commands and
 * the tests all connect with these options. The settings are Temporal's own (@temporalio/envconfig,
 * as the temporal CLI reads them): a profile of a TOML config file, overridden by TEMPORAL_*
 * environment variables, then this product's defaults (the local dev server).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadClientConfig, loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { hostPort, parseTemporalSettings, temporalArea } from '../src/config/temporal-settings';

export interface TemporalConnection {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  /** Whether the connection uses TLS, and what it trusts: for messages (never a secret). */
  tls: false | { serverCa: string; serverName?: string; clientCert?: string };
  /** Where the API key comes from, when there is one (never the key). */
  apiKey?: string;
  /** The profile read from the config file, when one was. */
  profile?: { name: string; file: string };
  /** Options for `Connection.connect` (client) and `NativeConnection.connect` (worker) alike. */
  options: NativeConnectionOptions & { address: string };
}

const DEFAULT_PROFILE = 'default';

/** Where envconfig looks for the config file when TEMPORAL_CONFIG_FILE is not set (its own rule). */
function defaultConfigFile(env: Record<string, string | undefined>): string | undefined {
  if (os.platform() === 'win32') return env.APPDATA ? path.join(env.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  if (os.platform() === 'darwin') return env.HOME ? path.join(env.HOME, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const dir = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : env.HOME ? path.join(env.HOME, '.config') : undefined;
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : undefined;
}

/**
 * What envconfig is given: the settings as validated (empty means unset here, while envconfig
 * would take an empty TEMPORAL_ADDRESS as an address), `\n` in PEM text as line breaks, and the
 * variables it needs to find the default config file.
 */
function envconfigEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(temporalArea.specs)) {
    const value = env[name]?.trim();
    if (value) out[name] = name.endsWith('_DATA') ? value.replace(/\\n/g, '\n') : value;
  }
  for (const [name, value] of Object.entries(env)) if (name.startsWith('TEMPORAL_GRPC_META_') && value !== undefined) out[name] = value;
  for (const name of ['HOME', 'XDG_CONFIG_HOME', 'APPDATA']) if (env[name]) out[name] = env[name]!;
  return out;
}

/** A readable name for where a value came from: the variable, else the profile's key. */
function origin(env: Record<string, string>, variable: string, key: string, profile?: { name: string; file: string }): string {
  return env[variable] !== undefined || !profile ? variable : `${key} of profile ${profile.name} in ${profile.file}`;
}

/**
 * The profile as envconfig resolves it (file, then environment); every problem is thrown at once,
 * naming variables or profile keys and never a secret's value.
 */
function loadProfile(env: Record<string, string>): { profile: ClientConfigProfile; from?: { name: string; file: string } } {
  const file = env.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(env);
  if (env.TEMPORAL_CONFIG_FILE !== undefined && !fs.existsSync(env.TEMPORAL_CONFIG_FILE)) {
    throw new Error(`TEMPORAL_CONFIG_FILE: there is no file at ${env.TEMPORAL_CONFIG_FILE}`);
  }
  const name = env.TEMPORAL_PROFILE ?? DEFAULT_PROFILE;
  try {
    const profile = loadClientConfigProfile({ overrideEnvVars: env });
    // envconfig does not say whether the profile came from a file: look for it there.
    const fromFile = file !== undefined && name in loadClientConfig({ overrideEnvVars: env }).profiles;
    return { profile, from: fromFile ? { name, file } : undefined };
  } catch (error) {
    const e = error as Error & { line?: number; column?: number };
    // smol-toml's message quotes the lines around a syntax error, which may hold an api_key.
    if (e.line !== undefined) throw new Error(`${file} (Temporal config file): not valid TOML at line ${e.line}, column ${e.column}: ${e.message.split('\n')[0]}`);
    if (/^Profile '.*' not found/.test(e.message))
      throw new Error(
        file && fs.existsSync(file)
          ? `TEMPORAL_PROFILE: ${file} has no profile ${name}`
          : `TEMPORAL_PROFILE: there is no Temporal config file${file ? ` at ${file}` : ''} to take profile ${name} from (TEMPORAL_CONFIG_FILE names another)`,
      );
    throw new Error(`${file} (Temporal config file): ${e.message}`);
  }
}

/** Reads a PEM file or text once, so a missing file or a non-PEM value is reported by its setting. */
function pem(source: ConfigDataSource | undefined, where: string, problems: string[]): ConfigDataSource | undefined {
  if (!source) return undefined;
  let text: string;
  if ('path' in source) {
    try {
      text = fs.readFileSync(source.path, 'utf8');
    } catch (error) {
      problems.push(`${where}: cannot read ${source.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return undefined;
    }
  } else text = typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8');
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    problems.push(`${where}: ${'path' in source ? `${source.path} is` : 'is'} not PEM (-----BEGIN ...-----)`);
    return undefined;
  }
  return { data: text };
}

/**
 * The Temporal connection the settings describe, with options for both kinds of connection;
 * throws listing every problem (settings, config file, certificate files).
 */
export function temporalConnection(raw: Record<string, string | undefined>): TemporalConnection {
  const settings = parseTemporalSettings(raw);
  const env = envconfigEnv(raw);
  const { profile, from } = loadProfile(env);
  const problems: string[] = [];
  const where = (variable: string, key: string) => origin(env, variable, key, from);

  // A profile's address and namespace are checked as the variables are; the defaults apply last.
  const address = profile.address ?? settings.TEMPORAL_ADDRESS;
  const checked = hostPort.safeParse(address);
  if (!checked.success) problems.push(`${where('TEMPORAL_ADDRESS', 'address')}: ${checked.error.issues[0]!.message} (it is ${JSON.stringify(address)})`);
  const namespace = profile.namespace ?? settings.TEMPORAL_NAMESPACE;

  const tls = profile.tls;
  if (tls && !tls.disabled) {
    tls.serverCACert = pem(
      tls.serverCACert,
      where(env.TEMPORAL_TLS_SERVER_CA_CERT_DATA ? 'TEMPORAL_TLS_SERVER_CA_CERT_DATA' : 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path'),
      problems,
    );
    tls.clientCert = pem(
      tls.clientCert,
      where(env.TEMPORAL_TLS_CLIENT_CERT_DATA ? 'TEMPORAL_TLS_CLIENT_CERT_DATA' : 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path'),
      problems,
    );
    tls.clientKey = pem(tls.clientKey, where(env.TEMPORAL_TLS_CLIENT_KEY_DATA ? 'TEMPORAL_TLS_CLIENT_KEY_DATA' : 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key_path'), problems);
    // envconfig drops a certificate without its key (or a key without its certificate) without a word.
    if (!tls.clientCert !== !tls.clientKey && problems.length === 0)
      problems.push(
        `a client certificate (mTLS) needs both a certificate and a key: ${from ? `profile ${from.name} in ${from.file} and the TEMPORAL_TLS_CLIENT_* variables give` : 'the settings give'} only the ${tls.clientCert ? 'certificate' : 'key'}`,
      );
  }
  if (problems.length) throw new Error(`Invalid Temporal settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

  // envconfig's own mapping: TLS when configured, or by default with an API key.
  const { connectionOptions } = toClientOptions({ ...profile, address });
  const on = connectionOptions.tls !== undefined && connectionOptions.tls !== false;
  const tlsConfig = typeof connectionOptions.tls === 'object' ? connectionOptions.tls : undefined;
  return {
    address,
    namespace,
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    uiUrl: settings.TEMPORAL_UI_URL,
    tls: on
      ? {
          serverCa: tlsConfig?.serverRootCACertificate
            ? `the CA of ${where(env.TEMPORAL_TLS_SERVER_CA_CERT_DATA ? 'TEMPORAL_TLS_SERVER_CA_CERT_DATA' : 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path')}`
            : "the system's trusted CAs",
          serverName: tlsConfig?.serverNameOverride,
          clientCert: tlsConfig?.clientCertPair
            ? where(env.TEMPORAL_TLS_CLIENT_CERT_DATA ? 'TEMPORAL_TLS_CLIENT_CERT_DATA' : 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path')
            : undefined,
        }
      : false,
    apiKey: profile.apiKey !== undefined ? where('TEMPORAL_API_KEY', 'api_key') : undefined,
    profile: from,
    options: { ...connectionOptions, address },
  };
}

/** One line about how the connection is made (no secret): for check output and errors; the address alone without TLS. */
export function describeConnection(c: TemporalConnection): string {
  const tls = c.tls ? `, TLS (trusting ${c.tls.serverCa}${c.tls.serverName ? `, server name ${c.tls.serverName}` : ''}${c.tls.clientCert ? ', client certificate' : ''})` : '';
  return `${c.address}${tls}${c.apiKey ? ', API key' : ''}${c.profile ? `, profile ${c.profile.name} of ${c.profile.file}` : ''}`;
}

/** What to check when connecting failed: TLS settings when TLS is on, TEMPORAL_TLS when it is off. */
export function connectionFix(c: TemporalConnection, message: string): string {
  if (c.tls) {
    if (/does not answer with TLS|InvalidContentType/.test(message))
      return 'the server at TEMPORAL_ADDRESS does not use TLS: set TEMPORAL_TLS=false (and no API key or TLS settings), or check TEMPORAL_ADDRESS';
    if (/certificate|self[- ]signed|issuer|verify|unknown ca|handshake|ssl|tls/i.test(message)) {
      return `check the TLS settings: TEMPORAL_TLS_SERVER_CA_CERT_PATH (the CA that signed the server's certificate; without it only the system's CAs are trusted) and TEMPORAL_TLS_SERVER_NAME (the name in that certificate, when not the host of TEMPORAL_ADDRESS); TEMPORAL_TLS=false if the server does not use TLS`;
    }
    return 'check TEMPORAL_ADDRESS and the TLS settings (TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME; TEMPORAL_TLS=false if the server does not use TLS)';
  }
  return 'check TEMPORAL_ADDRESS: is the Temporal frontend running there (npm run stack -- up for the local one)? If it needs TLS, set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)';
}
