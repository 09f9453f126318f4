// docs/metrics.md lists exactly the metrics the daemons and drivers export, with their type and labels; and the
// Grafana dashboard in conf/ only asks for metrics (and labels) that exist. As errors-documented.test.ts does for
// error codes (STYLE.md §8, after fastify's test of its errors' docs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Registry } from 'prom-client';
import { AppMetrics } from '../../../../src/io/metrics/app-metrics.ts';
import { DirSize } from '../../../../src/io/metrics/dir-size.ts';
import { MasterMetrics } from '../../../../src/io/metrics/master-metrics.ts';
import { WorkerMetrics } from '../../../../src/io/metrics/worker-metrics.ts';

const ROOT = join(import.meta.dirname, '../../../..');

interface Exported {
  readonly type: string;
  readonly labels: ReadonlySet<string>;
}

/** Every metric of every registry, by name, with its type and label names (from the registries themselves). */
async function exported(): Promise<Map<string, Exported>> {
  const master = new MasterMetrics({ state: () => undefined, now: () => 0, handshakeFailures: () => 0 });
  const worker = new WorkerMetrics({ snapshot: () => undefined, workDir: new DirSize('/nonexistent') });
  const app = new AppMetrics({ snapshot: () => ({ executors: [], tasks: [] }), historySnapshot: () => ({ executors: [] }) } as never);
  const { registry, executors } = await app.registries();
  const registries: Registry[] = [master.registry, master.applications, worker.registry, registry, executors];
  const out = new Map<string, Exported>();
  for (const registry of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      const m = metric as unknown as { name: string; type: string; labelNames: readonly string[] };
      assert.ok(!out.has(m.name), `${m.name} is exported once`);
      out.set(m.name, { type: m.type, labels: new Set(m.labelNames) });
    }
  }
  return out;
}

test('docs/metrics.md lists every exported metric with its type and labels, and nothing else', async () => {
  const metrics = await exported();
  const doc = readFileSync(join(ROOT, 'docs/metrics.md'), 'utf8');
  const rows = new Map<string, { type: string; labels: string }>();
  for (const match of doc.matchAll(/^\| `(flint_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|/gm)) rows.set(match[1] as string, { type: match[2] as string, labels: match[3] as string });
  for (const [name, metric] of metrics) {
    const row = rows.get(name);
    assert.ok(row !== undefined, `${name} is documented in docs/metrics.md`);
    assert.equal(row.type, metric.type, `${name}'s type`);
    for (const label of metric.labels) assert.match(row.labels, new RegExp(`\`${label}\``), `${name}'s label ${label} is documented`);
  }
  for (const name of rows.keys()) assert.ok(metrics.has(name), `docs/metrics.md lists ${name}, which nothing exports`);
  assert.ok(metrics.size >= 40);
});

test('every expression of the Grafana dashboard names exported metrics and their labels', async () => {
  const metrics = await exported();
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'conf/grafana-flint-cluster.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 25);
  const used = new Set<string>();
  for (const { title, expr } of exprs) {
    const names = [...expr.matchAll(/\b(flint_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
    assert.ok(names.length > 0, `"${title}" asks for a Flint metric: ${expr}`);
    for (const name of names) {
      const base = metrics.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
      const metric = metrics.get(base);
      assert.ok(metric !== undefined, `"${title}": ${name} is exported`);
      if (base !== name) assert.equal(metric.type, 'histogram', `"${title}": ${name} is a histogram's series`);
      used.add(base);
      // Labels it selects on or groups by must be the metric's own (or Prometheus' instance and job).
      const allowed = new Set([...metric.labels, 'instance', 'job', ...(base !== name ? ['le'] : [])]);
      for (const selector of expr.matchAll(new RegExp(`${name}\\{([^}]*)\\}`, 'g'))) {
        for (const label of (selector[1] as string).matchAll(/([a-z_]+)\s*=~?/g)) assert.ok(allowed.has(label[1] as string), `"${title}": ${name} has a label ${label[1]}`);
      }
    }
    for (const by of expr.matchAll(/by \(([^)]*)\)/g)) {
      for (const label of (by[1] as string).split(',').map((l) => l.trim())) {
        assert.ok(names.some((n) => (metrics.get(n) ?? metrics.get(n.replace(/_(bucket|sum|count)$/, '')))?.labels.has(label)) || ['instance', 'job', 'le'].includes(label), `"${title}": grouped by ${label}`);
      }
    }
    if (/rate\(|increase\(/.test(expr)) {
      for (const name of names) {
        const type = metrics.get(name)?.type ?? 'histogram';
        assert.ok(type === 'counter' || type === 'histogram', `"${title}": rate() of ${name}, a ${type}`);
      }
    }
  }
  for (const name of ['flint_master_workers', 'flint_master_schedule_duration_seconds', 'flint_worker_executor_exits_total', 'flint_worker_work_dir_bytes']) {
    assert.ok(used.has(name), `the dashboard shows ${name}`);
  }
});
