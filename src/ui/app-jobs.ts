// The application UI's jobs: the list (Spark's `AllJobsPage`: active, completed and failed jobs, with the event
// timeline above them) and one job (Spark's `JobPage` with its stage, and the `StagePage` task table below it:
// each attempt's state, executor, duration and error). Flint runs one stage per job, numbered as its job.

import type { JobHistorySnapshot, TaskHistorySnapshot } from '../driver/index.ts';
import { appPage, appSummary, dateOf, durationOf, killJobForm, type AppUiModel } from './app-ui.ts';
import { formatDuration } from './format.ts';
import { attr, href, html, type SafeHtml } from './html.ts';
import { badge, section, toneOf } from './layout.ts';
import { dataTable, type Column } from './table.ts';

export const TIMELINE_SCRIPT = '/static/timeline.js';
export const TIMELINE_DATA = '/api/timeline';

function jobLink(job: { jobId: number; description: string }): SafeHtml {
  return html`<a${attr('href', href`/jobs/job/?id=${job.jobId}`)}>${job.description}</a>`;
}

function progress(job: JobHistorySnapshot): SafeHtml {
  const extra = [job.tasksRunning > 0 ? `${job.tasksRunning} running` : '', job.failedAttempts > 0 ? `${job.failedAttempts} failed` : '', job.killedAttempts > 0 ? `${job.killedAttempts} killed` : '']
    .filter((s) => s !== '')
    .join(', ');
  return html`${job.tasksDone}/${job.tasks}${extra === '' ? '' : html` <span class="muted">(${extra})</span>`}`;
}

function jobColumns(model: AppUiModel, withKill: boolean): Array<Column<JobHistorySnapshot>> {
  const columns: Array<Column<JobHistorySnapshot>> = [
    { key: 'id', label: 'Job Id', value: (j) => j.jobId, numeric: true },
    { key: 'description', label: 'Description', value: (j) => j.description, cell: jobLink },
    { key: 'submitted', label: 'Submitted', value: (j) => dateOf(model, j.submittedMs) },
    { key: 'duration', label: 'Duration', value: (j) => durationOf(model, j.submittedMs, j.endedMs), cell: (j) => formatDuration(durationOf(model, j.submittedMs, j.endedMs)), numeric: true },
    { key: 'tasks', label: 'Tasks: Succeeded/Total', value: (j) => j.tasksDone, cell: progress, numeric: true },
    { key: 'state', label: 'State', value: (j) => j.state, cell: (j) => badge(j.state, toneOf(j.state)) },
  ];
  if (withKill && model.killEnabled && !model.stopped) columns.push({ key: 'kill', label: 'Kill', value: () => '', cell: (j) => killJobForm(model, j.jobId) });
  return columns;
}

function jobTable(model: AppUiModel, id: string, jobs: readonly JobHistorySnapshot[], empty: string): SafeHtml {
  return dataTable({ id, columns: jobColumns(model, id === 'active'), rows: jobs, query: model.query, defaultSort: { key: 'id', desc: true }, empty });
}

/** The <main> of /jobs/. */
export function jobsMain(model: AppUiModel): SafeHtml {
  const jobs = model.history.jobs;
  const active = jobs.filter((j) => j.state === 'RUNNING');
  const completed = jobs.filter((j) => j.state === 'SUCCEEDED');
  const failed = jobs.filter((j) => j.state === 'FAILED');
  const live = model.history.executors.filter((e) => e.removedMs === undefined);
  return html`${appSummary(model, [
    ['Scheduling mode', 'FIFO'],
    ['Active jobs', active.length],
    ['Completed jobs', completed.length],
    ['Failed jobs', failed.length],
    ['Executors', `${live.length} (${live.reduce((sum, e) => sum + e.cores, 0)} cores)`],
  ])}
${section('Event timeline', html`<div class="chart timeline"><canvas id="timeline"${attr('data-src', TIMELINE_DATA)} aria-label="Executors added and removed, and jobs, over time" role="img"></canvas><p class="legend"><span class="swatch executor"></span>executor <span class="swatch running"></span>running job <span class="swatch succeeded"></span>succeeded <span class="swatch failed"></span>failed</p></div>`, 'event-timeline')}
${section(`Active jobs (${active.length})`, jobTable(model, 'active', active, 'No job is running.'), 'active-jobs')}
${section(`Completed jobs (${completed.length})`, jobTable(model, 'completed', completed, 'No job has completed yet.'), 'completed-jobs')}
${section(`Failed jobs (${failed.length})`, jobTable(model, 'failed', failed, 'No job has failed.'), 'failed-jobs')}`;
}

export function jobsPage(model: AppUiModel): SafeHtml {
  return appPage(model, 'jobs', { title: 'Jobs', live: '/events/jobs', body: jobsMain(model), scripts: [TIMELINE_SCRIPT] });
}

function taskColumns(model: AppUiModel): Array<Column<TaskHistorySnapshot>> {
  return [
    { key: 'id', label: 'Task Id', value: (t) => t.taskId, numeric: true },
    { key: 'index', label: 'Index', value: (t) => t.index, numeric: true },
    { key: 'partition', label: 'Partition', value: (t) => t.partition, numeric: true },
    { key: 'attempt', label: 'Attempt', value: (t) => t.attempt, numeric: true },
    { key: 'state', label: 'State', value: (t) => t.state, cell: (t) => badge(t.state, t.state === 'SUCCESS' ? 'ok' : t.state === 'RUNNING' || t.state === 'GET RESULT' ? 'warn' : 'bad') },
    { key: 'executor', label: 'Executor', value: (t) => t.executorId },
    { key: 'launched', label: 'Launch Time', value: (t) => dateOf(model, t.launchedMs) },
    { key: 'duration', label: 'Duration', value: (t) => durationOf(model, t.launchedMs, t.endedMs), cell: (t) => formatDuration(durationOf(model, t.launchedMs, t.endedMs)), numeric: true },
    { key: 'error', label: 'Error', value: (t) => t.error ?? '', cell: (t) => (t.error === undefined ? '' : html`<span class="error">${t.error}</span>`) },
  ];
}

/** The <main> of /jobs/job/?id=: the job, its stage, its attempts. Undefined when the job is unknown. */
export function jobMain(model: AppUiModel, jobId: number): SafeHtml | undefined {
  const job = model.history.jobs.find((j) => j.jobId === jobId);
  if (job === undefined) return undefined;
  const running = job.state === 'RUNNING';
  const stage = dataTable({
    id: 'stages',
    columns: [
      { key: 'id', label: 'Stage Id', value: (j: JobHistorySnapshot) => j.jobId, numeric: true },
      { key: 'description', label: 'Description', value: (j) => j.description },
      { key: 'submitted', label: 'Submitted', value: (j) => dateOf(model, j.submittedMs) },
      { key: 'duration', label: 'Duration', value: (j) => formatDuration(durationOf(model, j.submittedMs, j.endedMs)) },
      { key: 'tasks', label: 'Tasks: Succeeded/Total', value: (j) => j.tasksDone, cell: progress },
      { key: 'state', label: 'State', value: (j) => j.state, cell: (j) => badge(j.state, toneOf(j.state)) },
    ],
    rows: [job],
    query: model.query,
    empty: 'No stage.',
  });
  const tasks = dataTable({ id: 'tasks', columns: taskColumns(model), rows: model.history.tasks, query: model.query, defaultSort: { key: 'id', desc: false }, empty: 'No task has been launched yet.' });
  return html`${appSummary(model, [
    ['Job', html`${job.jobId} ${badge(job.state, toneOf(job.state))}`],
    ['Description', job.description],
    ['Submitted', dateOf(model, job.submittedMs)],
    ['Duration', formatDuration(durationOf(model, job.submittedMs, job.endedMs))],
    ['Tasks', progress(job)],
  ])}
${running ? html`<div class="actions">${killJobForm(model, job.jobId)}</div>` : ''}
${job.error === undefined ? '' : section('Failure', html`<pre class="error">${job.error}</pre>`, 'failure')}
${section('Stages', stage, 'stages-section')}
${section(`Tasks (${model.history.tasks.length})`, tasks, 'tasks-section')}`;
}

/** The job page, headed by the job's state; its event stream gets the page's query (`?id=`) from static/live.js. */
export function jobPage(model: AppUiModel, jobId: number, main: SafeHtml): SafeHtml {
  const state = model.history.jobs.find((j) => j.jobId === jobId)?.state;
  const status = state === undefined ? {} : { status: { text: state, tone: toneOf(state) } };
  return appPage(model, 'jobs', { title: `Job ${jobId}`, live: '/events/job', body: main, ...status });
}

/** What static/timeline.js draws (`/api/timeline`): wall-clock ms since the epoch; an open end still runs. */
export interface TimelineData {
  readonly startedMs: number;
  readonly nowMs: number;
  readonly executors: ReadonlyArray<{ readonly id: string; readonly addedMs: number; readonly removedMs: number | null; readonly reason: string | null }>;
  readonly jobs: ReadonlyArray<{ readonly id: number; readonly description: string; readonly submittedMs: number; readonly endedMs: number | null; readonly state: string }>;
}

export function timelineData(model: AppUiModel): TimelineData {
  const wall = (ms: number | undefined): number | null => (ms === undefined ? null : ms + model.clockOffsetMs);
  return {
    startedMs: model.startedMs,
    nowMs: model.nowMs + model.clockOffsetMs,
    executors: model.history.executors.map((e) => ({ id: e.executorId, addedMs: e.addedMs + model.clockOffsetMs, removedMs: wall(e.removedMs), reason: e.removedReason ?? null })),
    jobs: model.history.jobs.map((j) => ({ id: j.jobId, description: j.description, submittedMs: j.submittedMs + model.clockOffsetMs, endedMs: wall(j.endedMs), state: j.state })),
  };
}
