// Grafana is not packaged here, so dashboards and alert rules are tested by consistency: every metric they query is
// one core/metrics.ts defines, every panel uses the provisioned datasource, and /metrics really serves them.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { createMetrics } from '../core/metrics.js';
import { ROOT } from './helpers/wingman.js';

const mon = path.join(ROOT, 'compose/monitoring');

/** prom-client's typings declare `type` a numeric enum; at run time getMetricsAsJSON gives the type's name. */
const metricType = (metric: { type: unknown }) => String(metric.type);

async function definedNames(): Promise<Set<string>> {
  const m = createMetrics();
  const names = new Set<string>();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (metricType(metric) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
  }
  return names;
}

const used = (expr: string) => [...expr.matchAll(/\bwingman_[a-z0-9_]+/g)].map((m) => m[0]);

t.test('dashboard panels query defined metrics through the provisioned datasource', async (t) => {
  const names = await definedNames();
  const ds = YAML.parse(fs.readFileSync(path.join(mon, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
  const uid = ds.datasources[0].uid;
  const dir = path.join(mon, 'grafana/dashboards');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.ok(files.length > 0);
  for (const f of files) {
    const dash = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    t.ok(dash.uid && dash.title, `${f} has uid and title`);
    const ids = new Set<number>();
    for (const p of dash.panels) {
      t.notOk(ids.has(p.id), `${f}: panel id ${p.id} unique`);
      ids.add(p.id);
      t.equal(p.datasource.uid, uid, `${f}: ${p.title} uses the provisioned datasource`);
      for (const target of p.targets) {
        const metrics = used(target.expr);
        t.ok(metrics.length > 0, `${p.title} queries a wingman metric`);
        for (const n of metrics) t.ok(names.has(n), `${p.title}: ${n} is defined in core/metrics.ts`);
      }
    }
  }
});

t.test('alert rules and scrape config are consistent', async (t) => {
  const names = await definedNames();
  const rules = YAML.parse(fs.readFileSync(path.join(mon, 'alert-rules.yml'), 'utf8'));
  for (const g of rules.groups) for (const r of g.rules) for (const n of used(r.expr)) t.ok(names.has(n), `${r.alert}: ${n}`);
  const prom = YAML.parse(fs.readFileSync(path.join(mon, 'prometheus.yml'), 'utf8'));
  t.match(prom.rule_files[0], /alert-rules\.yml$/);
  t.ok(prom.scrape_configs.length > 0);
  // The split deployment (compose/docker-compose.base.yml) runs control and the proxy apart: both are scraped, each
  // at a service of the compose file, on the port it serves /metrics on (WINGMAN_PORT).
  const base = YAML.parse(fs.readFileSync(path.join(mon, '..', 'docker-compose.base.yml'), 'utf8'));
  const targets = prom.scrape_configs.flatMap((c: { static_configs: { targets: string[] }[] }) => c.static_configs.flatMap((s) => s.targets));
  for (const svc of ['control', 'proxy']) {
    t.ok(targets.includes(`${svc}:${base.services.control.environment.WINGMAN_PORT}`), `${svc} is scraped`);
    t.ok(base.services[svc], `${svc} is a service of the split deployment`);
  }
});

t.test('metric names follow Prometheus conventions and labels are bounded by construction', async (t) => {
  const m = createMetrics();
  for (const metric of await m.registry.getMetricsAsJSON()) {
    t.match(metric.name, /^wingman_[a-z0-9_]+$/, metric.name);
    if (metricType(metric) === 'counter') t.match(metric.name, /_total$/, `${metric.name} is a counter ending in _total`);
  }
});
