import type http from 'node:http';
import type { SimContext } from './context';
import type { SimField } from './objects';
import type { SimRecord } from './org';
import type { FaultRule, HoldRule, LimitsUpdate } from './types';

/* The control API under /__sim/: tests and the demo change data, inject faults, hold requests, read counts. */

/** Control API for tests and the demo: change data, inject faults. */
export async function control(sim: SimContext, req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const body = req.method === 'POST' ? (JSON.parse((await sim.body(req)) || '{}') as Record<string, unknown>) : {};
  try {
    switch (path) {
      case '/__sim/update':
        return sim.json(res, 200, sim.org.update(String(body.object), String(body.id), body.values as SimRecord));
      case '/__sim/delete':
        sim.org.delete(String(body.object), String(body.id));
        return sim.json(res, 200, { deleted: body.id });
      case '/__sim/hard-delete':
        sim.org.hardDelete(String(body.object), String(body.id));
        return sim.json(res, 200, { hardDeleted: body.id });
      case '/__sim/empty-recycle-bin':
        return sim.json(res, 200, { purged: sim.org.emptyRecycleBin(body.object === undefined ? undefined : String(body.object)) });
      case '/__sim/add-field': {
        // Existing rows hold `value` at once (a default, a formula, an admin's backfill).
        const spec = body.field as { name: string; type: SimField['type']; value?: unknown; label?: string; calculated?: boolean };
        sim.org.addField(String(body.object), {
          name: spec.name,
          type: spec.type,
          label: spec.label ?? spec.name,
          nillable: true,
          custom: spec.name.endsWith('__c'),
          calculated: spec.calculated ?? false,
          compoundFieldName: null,
          gen: () => spec.value ?? null,
        });
        return sim.json(res, 200, { added: spec.name });
      }
      case '/__sim/remove-field':
        // {"object": "Account", "field": "Logo__c"}: a custom field deleted (describe and queries no longer know it).
        sim.org.removeField(String(body.object), String(body.field));
        return sim.json(res, 200, { removed: body.field });
      case '/__sim/hide-field':
        // {"object": "Account", "field": "AnnualRevenue"}: field-level security takes read access away (describe still lists it).
        sim.org.hideField(String(body.object), String(body.field));
        return sim.json(res, 200, { hidden: body.field });
      case '/__sim/unhide-field':
        sim.org.unhideField(String(body.object), String(body.field));
        return sim.json(res, 200, { visible: body.field });
      case '/__sim/set-formula':
        // {"object": "Account", "field": "RatingScore__c", "value": 1.5, "id"?: "001..."}: no SystemModstamp moves.
        sim.org.setFormula(String(body.object), String(body.field), body.value ?? null, body.id === undefined ? undefined : String(body.id));
        return sim.json(res, 200, { set: body.field });
      case '/__sim/page-cache':
        // {"on": true}: Bulk results pages are rendered once and served from disk (benchmarks); false removes them.
        sim.setPageCache(body.on === true);
        return sim.json(res, 200, { on: sim.pageCache !== undefined });
      case '/__sim/page-cache-stats':
        return sim.json(res, 200, { on: sim.pageCache !== undefined, hits: sim.pageCache?.hits ?? 0, bytes: sim.pageCache?.bytes ?? 0 });
      case '/__sim/fault':
        sim.addFault(body as unknown as FaultRule);
        return sim.json(res, 200, { faults: sim.faults.filter((f) => f.count > 0).length });
      case '/__sim/hold':
        return sim.json(res, 200, { id: sim.hold(body as unknown as HoldRule).id });
      case '/__sim/release': {
        const h = sim.holds.find((x) => x.id === body.id);
        h?.release();
        return sim.json(res, h ? 200 : 404, { released: Boolean(h) });
      }
      case '/__sim/holds':
        return sim.json(
          res,
          200,
          sim.holds.map((h) => ({ id: h.id, ...h.rule, ...h.state })),
        );
      case '/__sim/expire-sessions':
        sim.expireSessions();
        return sim.json(res, 200, { expired: true });
      case '/__sim/stats':
        return sim.json(res, 200, sim.stats());
      case '/__sim/reset-stats':
        sim.resetStats();
        return sim.json(res, 200, sim.stats());
      case '/__sim/result-latency':
        sim.setResultLatency(Number(body.ms ?? 0));
        return sim.json(res, 200, { ms: sim.config.resultLatencyMs });
      case '/__sim/bulk-timeout':
        sim.setBulkTimeoutRows(typeof body.rows === 'number' ? body.rows : undefined);
        return sim.json(res, 200, { rows: sim.config.bulkTimeoutRows ?? null });
      case '/__sim/limits':
        // POST {"DailyApiRequests": {"Max": 100, "Remaining": 10}} puts the org near or over a limit.
        sim.setLimits(body as LimitsUpdate);
        return sim.json(res, 200, sim.limits());
      case '/__sim/usage':
        return sim.json(res, 200, sim.usage);
      case '/__sim/add-records':
        // {"object": "AccountHistory", "count": 5}: records created now (an incremental sync sees them; /__sim/counts adds past ones).
        return sim.json(res, 200, { added: sim.org.addRecords(String(body.object), Number(body.count ?? 1)) });
      case '/__sim/touch':
        // {"updates": 5, "creates": 2, "deletes": 1, "deleteEvery": 10, "round": 1, "objects"?: [...]}: a few changes to every object at once.
        return sim.json(
          res,
          200,
          sim.org.touch({
            updates: Number(body.updates ?? 0),
            creates: Number(body.creates ?? 0),
            deletes: Number(body.deletes ?? 0),
            deleteEvery: Number(body.deleteEvery ?? 1),
            round: Number(body.round ?? 0),
            objects: Array.isArray(body.objects) ? body.objects.map(String) : undefined,
          }),
        );
      case '/__sim/counts':
        for (const [name, n] of Object.entries(body)) sim.org.setCount(name, Number(n));
        return sim.json(res, 200, body);
      default:
        return sim.json(res, 404, { error: `no control endpoint ${path}` });
    }
  } catch (error) {
    return sim.json(res, 400, { error: (error as Error).message });
  }
}
