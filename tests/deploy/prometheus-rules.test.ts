import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/shared/config.js';
import { ERROR_CODES, ERROR_TABLE } from '../../src/shared/errors.js';
import { JOB_STAGES, QUEUE_NAMES } from '../../src/shared/job.js';
import { createWorkerMetrics } from '../../src/worker/worker-metrics.js';

/**
 * deploy/prometheus/: the scrape config and the rules name only what the workers really export. The metric names
 * come from the real registry's exposition text (what /metrics serves), not from a list kept by hand.
 */
interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const rules = parse(readFileSync('deploy/prometheus/hairstyler-rules.yml', 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
const scrape = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; metrics_path: string; static_configs: Array<{ targets: string[] }> }>;
};
const allRules = rules.groups.flatMap((g) => g.rules);

/** Every series name /metrics serves, after one observation of each labelled metric. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createWorkerMetrics({ [QUEUE_NAMES.tryOn]: async () => ({ waiting: 1, active: 0, paused: 0, failed: 0 }) });
  metrics.observeStage('transferring', 120);
  metrics.observeJob(QUEUE_NAMES.tryOn, 4_000);
  metrics.failed(QUEUE_NAMES.tryOn, 'INTERNAL');
  metrics.threadRestarted('OUT_OF_MEMORY');
  metrics.setInfo({ workerId: 'w', executionProvider: 'cpu', modelKind: 'contract', precision: 'fp32', gpu: '', loadMs: 1 });
  const text = await metrics.registry.metrics();
  return new Set(text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split(/[{ ]/)[0]!));
}

/** PromQL with label matchers, `by (…)`/`without (…)` groupings, strings and durations taken out: what is left names series. */
function seriesIn(expr: string): { metrics: string[]; recorded: string[]; matchers: Array<[string, string]> } {
  const matchers = [...expr.matchAll(/(\w+)\s*=~?\s*"([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as [string, string]);
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/"[^"]*"/g, '').replace(/\[[^\]]*\]/g, '');
  const words = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter((m) => !m[2]).map((m) => m[1]!);
  return { metrics: words.filter((w) => /^hair_/.test(w) || w === 'up'), recorded: words.filter((w) => w.startsWith('hair:')), matchers };
}

describe('deploy/prometheus', () => {
  it('scrapes the workers\' /metrics on METRICS_PORT\'s default and loads the rules file', () => {
    const job = scrape.scrape_configs.find((c) => c.job_name === 'hairstyler-worker')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0]!.targets).toContain(`127.0.0.1:${loadConfig({ env: {} }).METRICS_PORT}`);
    expect(scrape.rule_files).toEqual(['hairstyler-rules.yml']);
  });

  it('every metric the rules use is exported by the worker (names read from its real registry)', async () => {
    const exported = await exportedNames();
    const used = new Set(allRules.flatMap((r) => seriesIn(r.expr).metrics));
    expect(used.size).toBeGreaterThan(5);
    const missing = [...used].filter((name) => name !== 'up' && !exported.has(name));
    expect(missing).toEqual([]);
  });

  it('every recorded series used is recorded, and every up{} names the scrape job', () => {
    const recorded = new Set(allRules.flatMap((r) => (r.record ? [r.record] : [])));
    expect(allRules.flatMap((r) => seriesIn(r.expr).recorded).filter((name) => !recorded.has(name))).toEqual([]);
    for (const rule of allRules.filter((r) => /\bup\{/.test(r.expr))) expect(rule.expr).toContain('job="hairstyler-worker"');
  });

  it('label values are real: queue names, stages, BullMQ states, and only error codes that are not the member\'s doing', () => {
    const states = new Set(['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'paused', 'waiting-children']);
    for (const [label, value] of allRules.flatMap((r) => seriesIn(r.expr).matchers)) {
      const values = value.split('|');
      if (label === 'queue') expect(Object.values(QUEUE_NAMES)).toEqual(expect.arrayContaining(values));
      if (label === 'stage') expect(JOB_STAGES).toEqual(expect.arrayContaining(values));
      if (label === 'state') for (const v of values) expect(states.has(v)).toBe(true);
      if (label === 'code') {
        expect(ERROR_CODES).toEqual(expect.arrayContaining(values));
        for (const code of values) expect(ERROR_TABLE[code as keyof typeof ERROR_TABLE].userFacing).toBe(false);
      }
    }
  });

  it('every alert waits (for), has a severity, a summary and a description pointing at docs/scale.md', () => {
    const alerts = allRules.filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThan(5);
    for (const alert of alerts) {
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info']).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      expect(alert.annotations?.description, alert.alert).toMatch(/docs\/scale\.md#/);
    }
    const scale = readFileSync('docs/scale.md', 'utf8');
    for (const anchor of new Set(alerts.map((a) => /docs\/scale\.md#([\w-]+)/.exec(a.annotations!.description!)![1]!))) {
      const headings = [...scale.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\w\s-]/g, '').trim().replace(/\s+/g, '-'));
      expect(headings).toContain(anchor);
    }
  });
});
