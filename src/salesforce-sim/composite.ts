import type http from 'node:http';
import type { SimContext } from './context';
import { rest } from './rest';
import { SoqlError } from './soql';

/* Composite (POST /composite): up to 25 subrequests in one request, counted as one API call. */

/** Subrequests of one composite request, and of them queries (Salesforce's limits). */
export const COMPOSITE_MAX_SUBREQUESTS = 25;
export const COMPOSITE_MAX_QUERIES = 5;

interface Subrequest {
  method: string;
  url: string;
  referenceId: string;
  httpHeaders?: Record<string, string>;
}

/**
 * Runs each GET subrequest as the REST resource it names and answers them together
 * (`compositeResponse`, in order). The subrequests are independent here (allOrNone false; no
 * references between them), which is all a reader needs.
 */
export async function composite(sim: SimContext, res: http.ServerResponse, version: string, body: string): Promise<void> {
  let requests: Subrequest[];
  try {
    requests = (JSON.parse(body) as { compositeRequest?: Subrequest[] }).compositeRequest ?? [];
  } catch {
    return sim.json(res, 400, [{ errorCode: 'JSON_PARSER_ERROR', message: 'The request body is not JSON' }]);
  }
  if (requests.length === 0 || requests.length > COMPOSITE_MAX_SUBREQUESTS)
    return sim.json(res, 400, [{ errorCode: 'INVALID_API_INPUT', message: `A composite request takes 1 to ${COMPOSITE_MAX_SUBREQUESTS} subrequests, not ${requests.length}` }]);
  const prefix = `/services/data/v${version}`;
  const queries = requests.filter((r) => /^\/services\/data\/v[\d.]+\/query(All)?[/?]/.test(r.url)).length;
  if (queries > COMPOSITE_MAX_QUERIES)
    return sim.json(res, 400, [{ errorCode: 'LIMIT_EXCEEDED', message: `A composite request takes up to ${COMPOSITE_MAX_QUERIES} query subrequests, not ${queries}` }]);
  const out: { body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string }[] = [];
  for (const r of requests) {
    const answer = (status: number, answerBody: unknown) => out.push({ body: answerBody, httpHeaders: {}, httpStatusCode: status, referenceId: r.referenceId });
    if (r.method !== 'GET') {
      answer(400, [{ errorCode: 'INVALID_API_INPUT', message: `the simulator serves GET subrequests, not ${r.method}` }]);
      continue;
    }
    if (!r.url.startsWith(`${prefix}/`)) {
      answer(400, [{ errorCode: 'INVALID_API_INPUT', message: `a subrequest's version must be ${version}: ${r.url}` }]);
      continue;
    }
    const url = new URL(r.url, sim.instanceUrl);
    const resource = url.pathname.slice(prefix.length);
    const captured = await new Promise<{ status: number; text: string }>((resolve) => {
      let status = 200;
      const fake = {
        headersSent: false,
        writeHead(s: number) {
          status = s;
          return fake;
        },
        setHeader: () => fake,
        end(text?: string) {
          resolve({ status, text: text ?? '' });
        },
      };
      const req = { method: 'GET', headers: Object.fromEntries(Object.entries(r.httpHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v])) };
      try {
        rest(sim, req as unknown as http.IncomingMessage, fake as unknown as http.ServerResponse, version, resource, url);
      } catch (error) {
        if (error instanceof SoqlError) resolve({ status: 400, text: JSON.stringify([{ message: error.message, errorCode: error.errorCode }]) });
        else resolve({ status: 500, text: JSON.stringify([{ message: (error as Error).message, errorCode: 'UNKNOWN_EXCEPTION' }]) });
      }
    });
    answer(captured.status, captured.text ? JSON.parse(captured.text) : null);
  }
  return sim.json(res, 200, { compositeResponse: out });
}
