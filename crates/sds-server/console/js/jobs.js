// The account's jobs (Get Job List), with live progress of running jobs,
// and `watchJob`, which polls one job's status URL until it ends.

import { getJson, getText, sleep } from './api.js';
import { fill, formatDate, formatDuration, h, progressBar, shortId } from './dom.js';
import { firstJob, isFinished, job as readJob } from './envelope.js';

const POLL_MILLISECONDS = 500;

/**
 * Polls a job's status URL (a `Location` or `self` link) until it is
 * Completed or Aborted; `onUpdate(job)` hears every answer. Resolves to the
 * last job. `params` adds to the status URL (a download's `jobId`).
 */
export async function watchJob(statusUrl, onUpdate = () => {}, params = {}) {
  for (;;) {
    const answer = await getJson(statusUrl, params);
    const current = firstJob(answer.body);
    onUpdate(current);
    if (isFinished(current.status)) return current;
    await sleep(POLL_MILLISECONDS);
  }
}

/** "12 of 40 entities" (or what is known of it). */
export function progressText(current) {
  if (current.status === 'Completed') {
    if (!current.total && !current.processed && !current.failed) return 'Completed';
    return `Completed: ${current.processed ?? 0} processed${current.failed ? `, ${current.failed} failed` : ''}`;
  }
  if (current.status === 'Aborted') return `Aborted${current.error ? `: ${current.error}` : ''}`;
  const processed = current.processed ?? 0;
  // A load learns its total as it reads: while the two are equal the
  // total is only what was read so far.
  if (current.total && processed < current.total) return `${current.status}: ${processed} of ${current.total} entities`;
  if (processed) return `${current.status}: ${processed} entities so far`;
  return `${current.status}…`;
}

/** Shows a job on a progress bar: full when done, indeterminate while the total is unknown. */
export function showProgress(bar, current) {
  if (isFinished(current.status)) {
    bar.set(1, 1, progressText(current));
  } else if (current.total && (current.processed ?? 0) < current.total) {
    bar.set(current.processed ?? 0, current.total, progressText(current));
  } else {
    bar.set(0, 0, progressText(current));
  }
}

/** The failed rows report of a load (plain text), shown under a button. */
export function failedRowsButton(current) {
  const output = h('pre', { class: 'failed', hidden: true, tabindex: '0', 'aria-label': `Failed rows of job ${current.id}` });
  const button = h('button', {
    type: 'button', class: 'secondary', 'aria-expanded': 'false',
    onclick: async () => {
      if (!output.hidden) {
        output.hidden = true;
        button.setAttribute('aria-expanded', 'false');
        return;
      }
      output.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      output.textContent = 'Loading…';
      try {
        output.textContent = (await getText(current.failedUrl)).body || '(no rows listed)';
      } catch (error) {
        output.textContent = error.message;
      }
    },
  }, `Failed rows (${current.failed})`);
  return h('div', {}, button, output);
}

function durationOf(current) {
  if (!current.created) return '';
  const end = current.completed || (isFinished(current.status) ? current.created : new Date());
  return formatDuration(end - current.created);
}

function jobRow(current) {
  const progress = progressBar(`Progress of job ${current.id}`);
  const row = h('tr', { dataset: { jobId: current.id } });
  const render = (state) => {
    showProgress(progress, state);
    fill(row,
      h('td', { 'data-label': 'Data source' }, state.dataSourceUrl ? h('a', { href: sourceHash(state.dataSourceUrl) }, state.name) : state.name),
      h('td', { 'data-label': 'Kind' }, state.kind),
      h('td', { 'data-label': 'Status' }, h('span', { class: `badge ${state.status}` }, state.status)),
      h('td', { 'data-label': 'Progress' }, progress.element),
      h('td', { 'data-label': 'Created' }, formatDate(state.created)),
      h('td', { 'data-label': 'Duration' }, durationOf(state)),
      h('td', { 'data-label': 'Failed' },
        state.failed > 0 && state.failedUrl ? failedRowsButton(state) : String(state.failed ?? 0),
        state.error ? h('p', { class: 'error-box' }, state.error) : null),
      h('td', { 'data-label': 'Job id' }, shortId(state.id)));
  };
  render(current);
  return { row, render };
}

/** `#/source/{accessId}/{name}` from a `…/data/{accessId}/{name}` link. */
export function sourceHash(url) {
  const [accessId, name] = (new URL(url).pathname.split('/data/')[1] || '').split('/');
  return `#/source/${accessId}/${name}`;
}

/** The jobs page; returns a function that stops its polling. */
export function jobsView(main) {
  let stopped = false;
  const body = h('tbody');
  const summary = h('p', { id: 'jobs-summary' }, 'Loading the jobs…');
  fill(main,
    h('h1', { tabindex: '-1' }, 'Jobs'),
    h('p', { class: 'muted' }, 'Jobs of the last 15 days, downloads excepted. Running jobs update live.'),
    summary,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'stack', id: 'jobs-table' },
        h('thead', {}, h('tr', {}, ['Data source', 'Kind', 'Status', 'Progress', 'Created', 'Duration', 'Failed', 'Job id'].map((title) => h('th', { scope: 'col' }, title)))),
        body)));

  // The table is rebuilt only when a job changed, so an open failed-rows
  // report or the keyboard focus in it survives the idle refreshes.
  let shown = { signature: null, listed: [] };
  async function refresh() {
    const answer = await getJson('Dataflows/ListJobs');
    const resources = answer.body.resourceSets?.[0]?.resources || [];
    const jobs = resources.map(readJob);
    const signature = JSON.stringify(jobs.map((job) => [job.id, job.status, job.processed, job.failed]));
    if (signature === shown.signature) return shown.listed;
    summary.textContent = jobs.length ? `${jobs.length} jobs` : 'No jobs in the last 15 days.';
    const rows = jobs.map(jobRow);
    fill(body, rows.map((item) => item.row));
    shown = { signature, listed: jobs.map((current, index) => ({ current, render: rows[index].render })) };
    return shown.listed;
  }

  (async () => {
    while (!stopped) {
      const listed = await refresh();
      const running = listed.filter((item) => !isFinished(item.current.status) && item.current.selfUrl);
      if (running.length === 0) {
        // Nothing runs: look again now and then for jobs started elsewhere.
        for (let waited = 0; waited < 2000 && !stopped; waited += 250) await sleep(250);
        continue;
      }
      // Each running job's own status, until all of them have ended.
      await Promise.all(running.map((item) => watchJob(item.current.selfUrl, (state) => {
        if (!stopped) item.render({ ...state, dataSourceUrl: state.dataSourceUrl || item.current.dataSourceUrl });
      }).catch(() => {})));
    }
  })().catch((error) => {
    if (!stopped) summary.replaceWith(h('p', { class: 'error-box' }, error.message));
  });
  return () => {
    stopped = true;
  };
}
