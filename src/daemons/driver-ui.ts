// The application UI on the driver: Spark's `SparkUI`, bound when the SparkContext starts (`SparkUI.bind` on
// `spark.ui.port`, 4040, moving on to the next free port as `Utils.startServiceOnPort` does) and stopped with it.
// FlintContext starts it before registering with the master, so the master gets its URL as the application's
// `appUiUrl`. Pages are rendered by src/ui/app-*.ts from the task scheduler's snapshots; they follow the
// scheduler live (a ChangeSignal the DriverRuntime notifies after each input) and need the UI token when the
// application holds a secret (docs/security.md, "The web UIs").

import { arch, platform } from 'node:process';
import { join } from 'node:path';
import { isSecretKey, REDACTED, type FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import type { ChangeSignal } from '../io/http/live-page.ts';
import { liveEvents } from '../io/http/live-page.ts';
import { readPortMaxRetries } from '../io/http/port-retry.ts';
import { readUiAuthSettings } from '../io/http/ui-auth.ts';
import { bindUiServer, UiReply, type BoundUiServer, type UiRequest, type UiRoute } from '../io/http/ui-server.ts';
import { readSslOptions } from '../io/tls/ssl-options.ts';
import { LIMITS } from '../protocol/limits.ts';
import { DEFAULT_REDACTION_REGEX, environmentMain, environmentPage, redact, redactionPattern, type EnvironmentModel } from '../ui/app-executors.ts';
import { executorsMain, executorsPage } from '../ui/app-executors.ts';
import { jobMain, jobPage, jobsMain, jobsPage, timelineData } from '../ui/app-jobs.ts';
import type { AppUiModel } from '../ui/app-ui.ts';
import { html, type SafeHtml } from '../ui/html.ts';
import { forbiddenPage, plainPage } from '../ui/plain-pages.ts';
import { FLINT_HOME } from '../util/install.ts';
import type { Logger } from '../util/logger.ts';
import type { TaskSchedulerMachine } from '../driver/index.ts';
import type { AppMetrics } from '../io/metrics/app-metrics.ts';

/** Spark's `spark.ui.port` default. */
export const DEFAULT_APP_UI_PORT = 4040;
/** What a job killed from the UI fails with (Spark's `JobsTab.handleKillRequest`: "killed via the Web UI"). */
export const UI_KILL_REASON = 'killed via the web UI';

/** What the driver knows of itself, read at each render (the app id arrives after the UI started). */
import type { StageInfo } from '../api/dag-runner.ts';

export interface DriverUiInfo {
  readonly appName: string;
  readonly appId: () => string | undefined;
  readonly user: string;
  readonly master: string;
  readonly mainModule: string;
  readonly driverUrl: string;
  readonly startedMs: number;
  readonly stopped: () => boolean;
  /** The stages of the app's jobs (src/api/dag-runner.ts), newest last; absent before the context exists. */
  readonly stages?: () => readonly StageInfo[];
}

export interface DriverUiOptions {
  readonly conf: FlintConf;
  /** The application's secret (`readRpcSettings(conf).appSecret`): the UI token is derived from it. */
  readonly appSecret: string | undefined;
  readonly host: string;
  readonly publicHost: string;
  readonly machine: TaskSchedulerMachine;
  /** The application's metrics (DriverRuntime.metrics): `/metrics/prometheus`, `/metrics/executors/prometheus`. */
  readonly metrics?: AppMetrics | undefined;
  readonly changes: ChangeSignal;
  /** Cancels a running job (DriverRuntime.cancelJob). */
  readonly cancelJob: (jobId: number, reason: string) => Promise<void>;
  readonly info: DriverUiInfo;
  readonly logger: Logger;
  /** The scheduler's clock (its inputs' `now`). */
  readonly monotonicNow: () => number;
  /** Where the message "Application UI at …" goes; stderr by default. */
  readonly print?: (line: string) => void;
}

export interface DriverUiSettings {
  readonly enabled: boolean;
  readonly port: number;
  readonly killEnabled: boolean;
  readonly redaction: RegExp;
}

/** `flint.ui.enabled` (true), `flint.ui.port` (4040), `flint.ui.killEnabled` (true), `flint.redaction.regex`. */
export function readDriverUiSettings(conf: FlintConf): DriverUiSettings {
  const source = conf.getString('flint.redaction.regex', DEFAULT_REDACTION_REGEX);
  let redaction: RegExp;
  try {
    redaction = redactionPattern(source);
  } catch (err) {
    throw new ConfigError('flint.redaction.regex', `flint.redaction.regex is not a regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    enabled: conf.getBoolean('flint.ui.enabled', true),
    port: conf.getInt('flint.ui.port', DEFAULT_APP_UI_PORT, LIMITS.bindPort),
    killEnabled: conf.getBoolean('flint.ui.killEnabled', true),
    redaction,
  };
}

export interface DriverUi {
  readonly url: string;
  readonly loginUrl: string | undefined;
  readonly port: number;
  /** Builds the pages (BoundUiServer.build): settles when they are served, rejects when they cannot be built. */
  readonly build: () => Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the application UI, or returns undefined when `flint.ui.enabled` is false. It resolves once the port is
 * bound, so that the app can register with its UI's URL. The pages are built when the first request comes
 * (it waits for them), or when `build()` is called: most applications run without anyone opening their UI, and
 * building it while the first executors register held them up (docs/ui.md, "Ports").
 */
export async function startDriverUi(options: DriverUiOptions): Promise<DriverUi | undefined> {
  const settings = readDriverUiSettings(options.conf);
  if (!settings.enabled) return undefined;
  const auth = readUiAuthSettings(options.conf, options.appSecret);
  const server: BoundUiServer = await bindUiServer({
    serviceName: 'application UI',
    host: options.host,
    publicHost: options.publicHost,
    port: settings.port,
    maxRetries: readPortMaxRetries(options.conf),
    tls: readSslOptions(options.conf, 'ui', { listens: true }),
    logger: options.logger,
    auth,
    routes: driverUiRoutes(options, settings),
    staticDir: join(FLINT_HOME, 'static'),
    // Building the pages is about 140 ms of CPU: done at start, it held up the first executors' registration.
    buildOnFirstRequest: true,
  });
  const print = options.print ?? ((line: string) => void process.stderr.write(`${line}\n`));
  print(`Application UI at ${server.url}`);
  if (server.loginUrl !== undefined) print(`Application UI login (the token is ${auth.tokenSource}): ${server.loginUrl}`);
  return { url: server.url, loginUrl: server.loginUrl, port: server.port, build: () => server.build(), close: () => server.close() };
}

/** The routes of the application UI; exported for tests that serve them on their own server. */
export function driverUiRoutes(options: DriverUiOptions, settings: DriverUiSettings): UiRoute[] {
  const model = (req: UiRequest, tasksOfJob?: number): AppUiModel => {
    const now = options.monotonicNow();
    return {
      appName: options.info.appName,
      appId: options.info.appId(),
      user: options.info.user,
      master: options.info.master,
      startedMs: options.info.startedMs,
      nowMs: now,
      clockOffsetMs: Date.now() - now,
      stopped: options.info.stopped(),
      history: options.machine.historySnapshot(tasksOfJob),
      killEnabled: settings.killEnabled,
      csrfToken: req.csrfToken,
      query: req.query,
    };
  };
  const environment = (): EnvironmentModel => environmentOf(options, settings);
  const jobId = (req: UiRequest): number | undefined => parseJobId(req.query.get('id'));
  const jobMainOf = (req: UiRequest): SafeHtml => {
    const id = jobId(req);
    return (id === undefined ? undefined : jobMain(model(req, id), id)) ?? html`<p>There is no job ${req.query.get('id') ?? ''} (it may have been forgotten: flint.ui.retainedJobs).</p>`;
  };
  const live = (render: (req: UiRequest) => SafeHtml) => liveEvents({ signal: options.changes, render });
  return [
    ...(options.metrics?.routes() ?? []),
    { kind: 'page', path: '/', handler: () => UiReply.redirect('/jobs/') },
    { kind: 'page', path: '/jobs/', handler: (req) => jobsPage(model(req)) },
    {
      kind: 'page',
      path: '/jobs/job/',
      handler: (req) => {
        const id = jobId(req);
        const m = model(req, id);
        const main = id === undefined ? undefined : jobMain(m, id);
        if (id === undefined || main === undefined) return UiReply.page(404, plainPage('No such job', html`<p>There is no job ${req.query.get('id') ?? ''}.</p><p><a href="/jobs/">All jobs</a></p>`));
        return jobPage(m, id, main);
      },
    },
    { kind: 'page', path: '/executors/', handler: (req) => executorsPage(model(req)) },
    { kind: 'page', path: '/environment/', handler: (req) => environmentPage(model(req), environment()) },
    { kind: 'events', path: '/events/jobs', handler: live((req) => jobsMain(model(req))) },
    { kind: 'events', path: '/events/job', handler: live(jobMainOf) },
    { kind: 'events', path: '/events/executors', handler: live((req) => executorsMain(model(req))) },
    { kind: 'events', path: '/events/environment', handler: live((req) => environmentMain(model(req), environment())) },
    { kind: 'json', path: '/api/timeline', handler: (req) => timelineData(model(req)) },
    {
      kind: 'json',
      path: '/json',
      handler: (req) => {
        const m = model(req);
        const stages = options.info.stages?.() ?? [];
        return { appName: m.appName, appId: m.appId ?? null, user: m.user, stopped: m.stopped, scheduler: options.machine.snapshot(), jobs: m.history.jobs, stages, executors: m.history.executors };
      },
    },
    {
      kind: 'action',
      path: '/jobs/job/kill/',
      handler: async (req) => {
        if (!settings.killEnabled) return UiReply.page(403, forbiddenPage('Killing jobs from the web UI is turned off (flint.ui.killEnabled=false).'));
        const id = parseJobId((req.body as Record<string, unknown> | undefined)?.['id']);
        if (id === undefined) return UiReply.json(400, { error: 'give the id of the job to kill as the form field id' });
        options.logger.warn({ jobId: id }, `Job ${id} killed via the web UI`);
        await options.cancelJob(id, UI_KILL_REASON);
        return UiReply.redirect('/jobs/');
      },
    },
  ];
}

function parseJobId(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/**
 * The environment tab's tables. Settings are redacted twice: Flint's own secret keys (FlintConf.redacted) and
 * `flint.redaction.regex` on key or value (Spark's `Utils.redact`); a value holding the app secret is never
 * shown whatever its key.
 */
function environmentOf(options: DriverUiOptions, settings: DriverUiSettings): EnvironmentModel {
  const secret = options.appSecret;
  const settingsShown = redact(options.conf.redacted(), settings.redaction).map(([key, value]): [string, string] => [
    key,
    isSecretKey(key) || (secret !== undefined && secret !== '' && value.includes(secret)) ? REDACTED : value,
  ]);
  const { info } = options;
  return {
    runtime: [
      ['Node version', process.version],
      ['Platform', `${platform} ${arch}`],
      ['Process id', String(process.pid)],
      ['Main module', info.mainModule],
      ['Driver URL', info.driverUrl],
      ['Master', info.master],
      ['Application name', info.appName],
      ['Application id', info.appId() ?? '(registering)'],
      ['User', info.user],
      ['Flint home', FLINT_HOME],
    ],
    settings: settingsShown,
  };
}
