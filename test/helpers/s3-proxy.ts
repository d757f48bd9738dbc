import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An S3 request the proxy saw: enough for a hook to decide on. */
export interface S3Request {
  method: string;
  /** Path and query as sent (`/bucket/key?uploadId=...`). */
  url: string;
  /** The access key id the request is signed with (from its Authorization header), if any. */
  accessKeyId?: string;
}

/**
 * A pass-through in front of MinIO for fault tests: requests and answers stream through unchanged
 * (the Host header too, so signatures still match), except that `refuse` can answer a request
 * itself with S3's error for it (an expired token, say) instead of forwarding it.
 */
export async function startS3Proxy(
  upstream: string,
  hooks: { refuse?: (req: S3Request) => { status: number; code: string; message: string } | undefined },
): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const seen: S3Request = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      accessKeyId: /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1],
    };
    const refusal = hooks.refuse?.(seen);
    if (refusal) {
      req.resume();
      res
        .writeHead(refusal.status, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message><Resource>${seen.url}</Resource></Error>`);
      return;
    }
    const forwarded = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', (error) => res.destroy(error));
    req.pipe(forwarded);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
