import crypto from 'node:crypto';
import type http from 'node:http';
import type { SimContext } from './context';
import { API_VERSIONS, SIM_USER_ID } from './types';

/* Logging in: the partner SOAP login, the OAuth2 token endpoint (password, client credentials, refresh token, JWT bearer) and the identity URL. */

/**
 * The identity service (GET /id/{orgId}/{userId}) with the access token in the Authorization
 * header or the oauth_token parameter; its URLs hold {version} unless `version` names one.
 */
export function identity(sim: SimContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL, orgId: string, userId: string): void {
  const token = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('oauth_token') ?? undefined;
  const fail = (status: number, code: string) => {
    res.writeHead(status, { 'content-type': 'text/plain;charset=UTF-8' });
    res.end(code);
  };
  if (!token) return fail(403, 'Missing_OAuth_Token');
  const session = sim.sessions.get(token);
  if (!session || session.expiresAt < Date.now()) return fail(403, 'Bad_OAuth_Token');
  if (orgId.slice(0, 15) !== sim.orgId.slice(0, 15)) return fail(403, 'Wrong_Org');
  if (userId.slice(0, 15) !== SIM_USER_ID.slice(0, 15)) return fail(404, 'Bad_Id');
  const asked = url.searchParams.get('version');
  const version = asked === 'latest' ? API_VERSIONS.at(-1)! : (asked ?? '{version}');
  const org15 = sim.orgId.slice(0, 15);
  const data = `${sim.instanceUrl}/services/data/v${version}`;
  sim.json(res, 200, {
    id: sim.identityUrl,
    asserted_user: true,
    user_id: SIM_USER_ID,
    organization_id: sim.orgId,
    username: session.user,
    display_name: session.user.split('@')[0],
    email: session.user,
    active: true,
    user_type: 'STANDARD',
    language: 'en_US',
    locale: 'en_US',
    utcOffset: 0,
    urls: {
      enterprise: `${sim.instanceUrl}/services/Soap/c/${version}/${org15}`,
      partner: `${sim.instanceUrl}/services/Soap/u/${version}/${org15}`,
      rest: `${data}/`,
      sobjects: `${data}/sobjects/`,
      search: `${data}/search/`,
      query: `${data}/query/`,
      profile: `${sim.instanceUrl}/${SIM_USER_ID}`,
    },
  });
}

export function soapFault(sim: SimContext, res: http.ServerResponse, code: string, message: string): void {
  res.writeHead(500, { 'content-type': 'text/xml;charset=UTF-8' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${code}: ${message}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>${code}</sf:exceptionCode><sf:exceptionMessage>${message}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
  );
}

/** The partner API login: username + password+token, or username + password with the org id header. */
export function soapLogin(sim: SimContext, body: string, version: string, res: http.ServerResponse): void {
  const element = (name: string) => new RegExp(`<(?:[\\w-]+:)?${name}>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(body)?.[1];
  const unescape = (s: string | undefined) =>
    s
      ?.replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
  const username = unescape(element('username'));
  const password = unescape(element('password'));
  const orgId = unescape(element('organizationId'));
  const user = sim.users.find((u) => u.username === username);
  const ok = user && (password === user.password + user.securityToken || (orgId !== undefined && orgId.slice(0, 15) === sim.orgId.slice(0, 15) && password === user.password));
  if (!user || !ok) return soapFault(sim, res, 'INVALID_LOGIN', 'Invalid username, password, security token; or user locked out.');
  const session = sim.newSession(user.username);
  const serverUrl = `${sim.instanceUrl}/services/Soap/u/${version}/${sim.orgId}`;
  res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>` +
      `<metadataServerUrl>${sim.instanceUrl}/services/Soap/m/${version}/${sim.orgId}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>` +
      `<serverUrl>${serverUrl}</serverUrl><sessionId>${session}</sessionId><userId>005000000000001AAA</userId>` +
      `<userInfo><organizationId>${sim.orgId}</organizationId><organizationName>Simulated Org</organizationName><sessionSecondsValid>${Math.round(sim.sessionTtlMs / 1000)}</sessionSecondsValid><userName>${user.username}</userName></userInfo>` +
      `</result></loginResponse></soapenv:Body></soapenv:Envelope>`,
  );
}

/** The OAuth2 token endpoint: password, client_credentials and refresh_token grants. */
export function oauthToken(sim: SimContext, body: string, res: http.ServerResponse): void {
  const form = new URLSearchParams(body);
  const fail = (error: string, description: string) => sim.json(res, 400, { error, error_description: description });
  const client = sim.clients.find((c) => c.clientId === form.get('client_id'));
  const grant = form.get('grant_type');
  const issue = (user: string, withRefresh: boolean) => {
    const token = sim.newSession(user);
    const out: Record<string, string> = {
      access_token: token,
      instance_url: sim.instanceUrl,
      id: `${sim.instanceUrl}/id/${sim.orgId}/005000000000001AAA`,
      token_type: 'Bearer',
      issued_at: String(Date.now()),
      signature: crypto.randomBytes(32).toString('base64'),
    };
    if (withRefresh) {
      const refresh = `5Aep${crypto.randomBytes(32).toString('base64url')}`;
      sim.refreshTokens.set(refresh, user);
      out.refresh_token = refresh;
    }
    sim.json(res, 200, out);
  };
  if (grant === 'password') {
    if (!client || client.clientSecret !== form.get('client_secret')) return fail('invalid_client_id', 'client identifier invalid');
    const user = sim.users.find((u) => u.username === form.get('username'));
    const password = form.get('password');
    if (!user || (password !== user.password + user.securityToken && password !== user.password)) return fail('invalid_grant', 'authentication failure');
    return issue(user.username, true);
  }
  if (grant === 'client_credentials') {
    if (!client || client.clientSecret !== form.get('client_secret')) return fail('invalid_client', 'invalid client credentials');
    return issue(sim.users[0]!.username, false);
  }
  if (grant === 'refresh_token') {
    if (!client) return fail('invalid_client_id', 'client identifier invalid');
    const user = sim.refreshTokens.get(form.get('refresh_token') ?? '');
    if (!user) return fail('invalid_grant', 'expired access/refresh token');
    return issue(user, false);
  }
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const [head, claims, signature] = (form.get('assertion') ?? '').split('.');
    if (!head || !claims || !signature || !sim.config.jwtCertificate) return fail('invalid_grant', 'invalid assertion');
    const key = sim.config.jwtCertificate.includes('CERTIFICATE') ? new crypto.X509Certificate(sim.config.jwtCertificate).publicKey : sim.config.jwtCertificate;
    const valid = crypto.verify('RSA-SHA256', Buffer.from(`${head}.${claims}`), key, Buffer.from(signature, 'base64url'));
    if (!valid) return fail('invalid_grant', 'invalid assertion');
    const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { iss?: string; sub?: string; aud?: string; exp?: number };
    if (!sim.clients.some((k) => k.clientId === c.iss)) return fail('invalid_client_id', 'client identifier invalid');
    if (!c.exp || c.exp * 1000 < Date.now()) return fail('invalid_grant', 'expired authorization code');
    const user = sim.users.find((u) => u.username === c.sub);
    if (!user) return fail('invalid_grant', "user hasn't approved this consumer");
    return issue(user.username, false);
  }
  return fail('unsupported_grant_type', 'grant type not supported');
}
