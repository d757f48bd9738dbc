import type { HttpRequest as IHttpRequest, RequestSigner } from '@smithy/types';
import { connectionFailure } from '../net';
import { ERROR_CODES, SyncError } from '../errors';

/**
 * Signs S3 requests through the catalog (the Iceberg REST spec's S3 signer API): the request's
 * method, URI and headers go to POST {signer uri}/{signer endpoint}, authenticated as catalog calls
 * are, and the catalog answers the headers (Authorization, X-Amz-Date, ...) to send with it. The
 * worker holds no storage key; the catalog decides per request whether this table may be read or
 * written there.
 */
export interface RemoteSignerOptions {
  /** `s3.signer.uri` (else the catalog's URI). */
  uri: string;
  /** `s3.signer.endpoint` (default v1/aws/s3/sign), relative to `uri` unless absolute. */
  endpoint?: string;
  region: string;
  /** The catalog's Authorization header value (forceRefresh: a new OAuth2 token). */
  authorization: (forceRefresh: boolean) => Promise<string | undefined>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A refusal of the catalog's signer: named as such by the preflight and in sync errors. */
export class SignerRefusedError extends SyncError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    // A signer that is down may come back; one that refuses (403, 400) will refuse again.
    super(message, status >= 500 ? { code: ERROR_CODES.CATALOG_UNAVAILABLE, retryable: true } : { code: ERROR_CODES.CATALOG_REFUSED, retryable: false });
  }
}

/** Headers S3 does not need signed that the SDK may add or change after signing. */
const UNSIGNED = new Set(['user-agent', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'expect']);

export function signerUrl(uri: string, endpoint = 'v1/aws/s3/sign'): string {
  if (/^https?:\/\//.test(endpoint)) return endpoint;
  return `${uri.replace(/\/+$/, '')}/${endpoint.replace(/^\/+/, '')}`;
}

export class RemoteS3Signer implements RequestSigner {
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: RemoteSignerOptions) {
    this.url = signerUrl(options.uri, options.endpoint);
    this.fetchImpl = options.fetch ?? fetch;
  }

  async sign(request: IHttpRequest): Promise<IHttpRequest> {
    const query = Object.entries(request.query ?? {})
      .flatMap(([k, v]) => (v === null ? [encodeURIComponent(k)] : (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)))
      .join('&');
    const host = request.port ? `${request.hostname}:${request.port}` : request.hostname;
    const uri = `${request.protocol}//${host}${request.path}${query ? `?${query}` : ''}`;
    // The body is not sent to the signer: its hash is not signed (S3 accepts UNSIGNED-PAYLOAD).
    request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const headers: Record<string, string[]> = { host: [host] };
    for (const [name, value] of Object.entries(request.headers)) {
      if (!UNSIGNED.has(name.toLowerCase()) && name.toLowerCase() !== 'host') headers[name] = [value];
    }
    const body = JSON.stringify({ region: this.options.region, uri, method: request.method, headers });
    let response: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const authorization = await this.options.authorization(attempt > 0);
      try {
        response = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(authorization ? { authorization } : {}) },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        });
      } catch (error) {
        throw new SyncError(`Could not reach the catalog's S3 request signer at ${new URL(this.url).origin}: ${connectionFailure(error, new URL(this.url).host)}`, {
          code: ERROR_CODES.CATALOG_UNAVAILABLE,
          retryable: true,
          cause: error,
        });
      }
      // An expired OAuth2 token: a new one, once.
      if (response.status !== 401) break;
    }
    if (!response!.ok) {
      const text = await response!.text();
      let detail = text.slice(0, 300);
      try {
        detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
      } catch {
        // not JSON
      }
      throw new SignerRefusedError(
        `The catalog's S3 request signer refused to sign ${request.method} ${uri} (HTTP ${response!.status}${detail ? `: ${detail}` : ''})`,
        response!.status,
      );
    }
    const signed = (await response!.json()) as { uri?: string; headers?: Record<string, string[] | string> };
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers ?? {})) out[name] = Array.isArray(value) ? value.join(',') : value;
    // Headers the SDK keeps that the signer did not cover (user agent and the like) are sent as well.
    for (const [name, value] of Object.entries(request.headers)) {
      if (!Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase())) out[name] = value;
    }
    request.headers = out;
    if (signed.uri && signed.uri !== uri) {
      const u = new URL(signed.uri);
      request.protocol = u.protocol;
      request.hostname = u.hostname;
      request.port = u.port ? Number(u.port) : undefined;
      request.path = u.pathname;
      const q: Record<string, string | string[] | null> = {};
      for (const [k, v] of u.searchParams) q[k] = v;
      request.query = q;
    }
    return request;
  }
}
