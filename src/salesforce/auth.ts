import crypto from 'node:crypto';
import fs from 'node:fs';
import { ERROR_CODES, SyncError } from '../errors';
import { connectionFailure, networkCode } from '../net';
import { pemText, privateKeyProblem, salesforceEnv, type AuthMethod, type SalesforceSettings } from './settings';

export interface Session {
  accessToken: string;
  instanceUrl: string;
}

/** Credentials Salesforce refused: retrying cannot help. The message names the method, never a secret. */
export class SalesforceAuthError extends SyncError {
  constructor(
    message: string,
    /** Why, in Salesforce's words (INVALID_LOGIN, invalid_grant, ...), or KEY / KEY_FILE for a JWT key this side cannot use. */
    readonly reason: string,
  ) {
    super(message, { code: ERROR_CODES.SALESFORCE_AUTH, retryable: false });
    this.name = 'SalesforceAuthError';
  }
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const element = (xml: string, name: string) => new RegExp(`<(?:[\\w-]+:)?${name}>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(xml)?.[1];

/** Salesforce could not be reached for a login: the host, and why (never a credential). */
export class SalesforceUnreachableError extends SyncError {
  constructor(message: string, cause?: unknown) {
    // A host name that does not resolve will not start to: not retried.
    const unknownHost = networkCode(cause)?.code === 'ENOTFOUND';
    super(message, { code: unknownHost ? ERROR_CODES.HOST_NOT_FOUND : ERROR_CODES.SALESFORCE_UNREACHABLE, retryable: !unknownHost, cause });
    this.name = 'SalesforceUnreachableError';
  }
}

async function post(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(60_000);
  try {
    return await fetch(url, { method: 'POST', body, headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (error) {
    signal?.throwIfAborted();
    // The cause keeps the network code (ENOTFOUND: a host that does not exist is not retried).
    throw new SalesforceUnreachableError(`Could not reach Salesforce at ${new URL(url).origin}: ${connectionFailure(error, new URL(url).host)}`, error);
  }
}

/** Partner SOAP login: username + password+token, or username + password with the org id header. */
async function soapLogin(settings: SalesforceSettings, username: string, password: string, organizationId?: string, signal?: AbortSignal): Promise<Session> {
  const header = organizationId
    ? `<soapenv:Header><urn:LoginScopeHeader><urn:organizationId>${xmlEscape(organizationId)}</urn:organizationId></urn:LoginScopeHeader></soapenv:Header>`
    : '<soapenv:Header/>';
  const envelope =
    `<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">${header}` +
    `<soapenv:Body><urn:login><urn:username>${xmlEscape(username)}</urn:username><urn:password>${xmlEscape(password)}</urn:password></urn:login></soapenv:Body></soapenv:Envelope>`;
  const response = await post(`${settings.loginUrl}/services/Soap/u/${settings.apiVersion}`, envelope, { 'content-type': 'text/xml; charset=UTF-8', SOAPAction: 'login' }, signal);
  const xml = await response.text();
  const sessionId = element(xml, 'sessionId');
  const serverUrl = element(xml, 'serverUrl');
  if (!response.ok || !sessionId || !serverUrl) {
    const code = element(xml, 'exceptionCode') ?? `HTTP_${response.status}`;
    const message = element(xml, 'exceptionMessage') ?? 'login refused';
    const method = organizationId ? 'OrganizationId' : 'SecurityToken';
    throw new SalesforceAuthError(`Salesforce refused the ${method} login of ${username} at ${settings.loginUrl}: ${code}: ${message}`, code);
  }
  return { accessToken: sessionId, instanceUrl: new URL(serverUrl).origin };
}

async function tokenRequest(
  settings: SalesforceSettings,
  method: string,
  who: string,
  form: Record<string, string>,
  signal?: AbortSignal,
): Promise<Session & { refreshToken?: string }> {
  const response = await post(`${settings.loginUrl}/services/oauth2/token`, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded' }, signal);
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; instance_url?: string; refresh_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token || !body.instance_url) {
    const code = body.error ?? `HTTP_${response.status}`;
    throw new SalesforceAuthError(`Salesforce refused the ${method} login of ${who} at ${settings.loginUrl}: ${code}: ${body.error_description ?? 'no description'}`, code);
  }
  return { accessToken: body.access_token, instanceUrl: body.instance_url.replace(/\/+$/, ''), refreshToken: body.refresh_token };
}

/** A JWT bearer assertion (RS256) for the OAuth 2.0 JWT bearer flow. */
export function jwtAssertion(opts: { consumerKey: string; username: string; audience: string; privateKey: string; lifetimeSeconds?: number }): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'RS256' })}.${b64({ iss: opts.consumerKey, sub: opts.username, aud: opts.audience, exp: now + (opts.lifetimeSeconds ?? 180) })}`;
  const signature = crypto.sign('RSA-SHA256', Buffer.from(unsigned), opts.privateKey).toString('base64url');
  return `${unsigned}.${signature}`;
}

/** Logs in with whichever method the settings chose; `signal` aborts the request. */
export async function authenticate(settings: SalesforceSettings, signal?: AbortSignal): Promise<Session> {
  const auth: AuthMethod = settings.auth;
  switch (auth.kind) {
    case 'SecurityToken':
      return soapLogin(settings, auth.username, auth.password + auth.securityToken, undefined, signal);
    case 'OrganizationId':
      return soapLogin(settings, auth.username, auth.password, auth.organizationId, signal);
    case 'ConsumerKeySecret':
      return tokenRequest(
        settings,
        'ConsumerKeySecret',
        auth.username,
        {
          grant_type: 'password',
          client_id: auth.consumerKey,
          client_secret: auth.consumerSecret,
          username: auth.username,
          password: auth.password,
        },
        signal,
      );
    case 'ClientCredentials':
      return tokenRequest(
        settings,
        'ClientCredentials',
        `client ${auth.consumerKey}`,
        { grant_type: 'client_credentials', client_id: auth.consumerKey, client_secret: auth.consumerSecret },
        signal,
      );
    case 'RefreshToken':
      return tokenRequest(
        settings,
        'RefreshToken',
        `client ${auth.consumerKey}`,
        {
          grant_type: 'refresh_token',
          client_id: auth.consumerKey,
          refresh_token: auth.refreshToken,
          ...(auth.consumerSecret ? { client_secret: auth.consumerSecret } : {}),
        },
        signal,
      );
    case 'JwtBearer': {
      let key = auth.privateKey;
      const from = key ? salesforceEnv.privateKey : `the file ${auth.privateKeyFile} (${salesforceEnv.privateKeyFile})`;
      if (!key) {
        try {
          key = fs.readFileSync(auth.privateKeyFile!, 'utf8');
        } catch (error) {
          throw new SalesforceAuthError(
            `Cannot read the JWT private key file ${auth.privateKeyFile} (${salesforceEnv.privateKeyFile}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
            'KEY_FILE',
          );
        }
      }
      const problem = privateKeyProblem(key);
      if (problem) throw new SalesforceAuthError(`The JWT private key in ${from} ${problem}`, 'KEY');
      const assertion = jwtAssertion({ consumerKey: auth.consumerKey, username: auth.username, audience: settings.loginUrl, privateKey: pemText(key) });
      return tokenRequest(settings, 'JwtBearer', auth.username, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }, signal);
    }
    case 'InstanceAuth':
      // A given session cannot be renewed: when it expires the sync fails with INVALID_SESSION_ID.
      return { accessToken: auth.sessionId, instanceUrl: auth.instanceUrl };
  }
}
