// One data source: its facts, schema, versions with their actions
// (publish, roll back, discard staged, download), visibility, delete, and
// the map preview with its query box and query URL.

import { apiUrl, getJson, getText, path, request, sleep } from './api.js';
import { announce, confirmAction, fill, formatBytes, formatDate, h, progressBar, shortId } from './dom.js';
import { firstJob, parseMetadata, parseServiceDocument } from './envelope.js';
import { progressText, showProgress, watchJob } from './jobs.js';
import { mapSection } from './mapview.js';

/**
 * A data source with its versions: `{name, accessId, entityType, isPublic,
 * published, staged, previous: [], versions}` (each version a workspace of
 * `showAllVersions`, with `jobId` and `updated`).
 */
export async function loadSource(accessId, name) {
  const answer = await getText(`data/${path(accessId, name)}`, { showAllVersions: 'true' });
  const versions = parseServiceDocument(answer.body);
  if (versions.length === 0) throw new Error(`Data source ${name} has no version.`);
  const published = versions.find((version) => version.isActive) || null;
  const staged = versions.find((version) => version.isStaging) || null;
  const previous = versions.filter((version) => !version.isActive && !version.isStaging);
  const first = published || staged || versions[0];
  return {
    name: first.name, accessId, entityType: first.entityType, isPublic: first.isPublic,
    description: first.description, published, staged, previous, versions,
  };
}

/** The entity count of the published (or staged) version, by a query. */
export async function entityCount(source, staged) {
  const answer = await getJson(`data/${path(source.accessId, source.name, source.entityType)}`, {
    $format: 'json', $top: 0, $inlinecount: 'allpages', isStaging: staged ? 1 : undefined,
  });
  return Number(answer.body.d.__count);
}

const EXTENSIONS = { xml: 'xml', csv: 'csv', geojson: 'geojson' };

/** Download a version: job, its progress, then the bytes with their progress. */
async function download(source, version, format, place) {
  const bar = progressBar(`Download of ${source.name}`);
  const outcome = h('div', { class: 'download-outcome' });
  fill(place, bar.element, outcome);
  const params = { format, output: 'json' };
  if (version.isStaging) params.isStaging = 1;
  else if (!version.isActive) params.jobId = version.jobId;
  try {
    const created = await request('GET', apiUrl(`Dataflows/DataSourceDownload/${path(source.accessId, source.name)}`, params));
    const job = firstJob(JSON.parse(created.body));
    const statusPath = `Dataflows/DataSourceDownload/${path(source.name)}`;
    const finished = await watchJob(statusPath, (state) => showProgress(bar, state), { jobId: job.id });
    if (finished.status !== 'Completed') throw new Error(progressText(finished));
    const data = await request('GET', apiUrl(`${statusPath}/output/succeeded`, { jobId: job.id }), {
      responseType: 'blob',
      onDownloadProgress: (progress) => bar.set(progress.loaded, progress.lengthComputable ? progress.total : 0,
        `Receiving ${formatBytes(progress.loaded)}${progress.lengthComputable ? ` of ${formatBytes(progress.total)}` : ''}`),
    });
    const blob = data.body;
    bar.set(1, 1, `Downloaded ${formatBytes(blob.size)}`);
    const fileName = `${source.name}-${version.jobId}.${EXTENSIONS[format]}`;
    const link = h('a', { href: URL.createObjectURL(blob), download: fileName, class: 'download-link', dataset: { bytes: String(blob.size) } },
      `Save ${fileName} again (${formatBytes(blob.size)})`);
    fill(outcome, link);
    link.click();
    announce(`Downloaded ${fileName}`);
  } catch (error) {
    fill(outcome, h('p', { class: 'error-box' }, `The download failed: ${error.message}`));
  }
}

function versionRow(source, version, state, count, act) {
  const formatSelect = h('select', { 'aria-label': `Download format of the ${state} version` },
    h('option', { value: 'xml' }, 'XML DataSet'), h('option', { value: 'csv' }, 'CSV'), h('option', { value: 'geojson' }, 'GeoJSON'));
  const place = h('div', { class: 'download-place' });
  const actions = [];
  if (state === 'staged') {
    actions.push(h('button', { type: 'button', class: 'publish', onclick: () => act.publish() }, 'Publish'));
    actions.push(h('button', { type: 'button', class: 'danger discard', onclick: () => act.discard() }, 'Discard'));
  }
  if (state === 'previous') {
    actions.push(h('button', { type: 'button', class: 'rollback', onclick: () => act.rollback(version) }, 'Roll back to this version'));
  }
  return h('tr', { dataset: { state, jobId: version.jobId } },
    h('td', { 'data-label': 'Version' }, h('span', { class: 'badge' }, state)),
    h('td', { 'data-label': 'Made by job' }, shortId(version.jobId)),
    h('td', { 'data-label': 'Date' }, formatDate(version.updated)),
    h('td', { 'data-label': 'Entities' }, count === null ? '—' : String(count)),
    h('td', { 'data-label': 'Actions' }, h('div', { class: 'actions' }, actions)),
    h('td', { 'data-label': 'Download' }, h('div', { class: 'actions' }, formatSelect,
      h('button', { type: 'button', class: 'secondary download', onclick: () => download(source, version, formatSelect.value, place) }, 'Download')), place));
}

/** The page of one data source; returns a function that stops it. */
export function sourceView(main, accessId, name, navigate) {
  let stagedPreview = false;
  const status = h('div', { id: 'action-status', 'aria-live': 'polite' });

  async function act(label, work) {
    const buttons = [...main.querySelectorAll('button')];
    buttons.forEach((button) => { button.disabled = true; });
    fill(status, h('p', { class: 'notice' }, `${label}…`));
    try {
      const text = await work();
      fill(status, h('p', { class: 'notice' }, text));
      announce(text);
      return true;
    } catch (error) {
      fill(status, h('p', { class: 'error-box' }, `${label} failed: ${error.message}`));
      return false;
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  }

  /** Runs a lifecycle job from its creating GET and waits for its end. */
  async function jobAction(label, relative, params, done) {
    const ok = await act(label, async () => {
      const answer = await request('GET', apiUrl(relative, { output: 'json', ...params }));
      const created = firstJob(JSON.parse(answer.body));
      const finished = await watchJob(answer.location || created.selfUrl);
      if (finished.status !== 'Completed') throw new Error(progressText(finished));
      return done;
    });
    if (ok) await render(status.cloneNode(true));
  }

  /** Deletes (all or the staged version), then waits until the store says so. */
  async function deleteAction(label, params, gone, done) {
    return act(label, async () => {
      await request('DELETE', apiUrl(`data/${path(accessId, name)}`, { output: 'json', ...params }));
      for (let tries = 0; tries < 60; tries += 1) {
        if (await gone()) return done;
        await sleep(250);
      }
      throw new Error('the server accepted the delete, but it has not happened after 15 s');
    });
  }

  const actions = {
    publish: () => confirmAction('Publish the staged version?', `The staged version of ${name} replaces the published one; the published one becomes a previous version.`, 'Publish')
      .then((yes) => yes && jobAction('Publishing', `data/${path(accessId, name)}/$commit`, {}, 'Published the staged version.')),
    rollback: (version) => confirmAction('Roll back?', `Version ${version.jobId} becomes the published version of ${name} again.`, 'Roll back')
      .then((yes) => yes && jobAction('Rolling back', `Dataflows/DataSourceRollback/${path(version.jobId, name)}`, {}, `Rolled back to version ${version.jobId}.`)),
    discard: () => confirmAction('Discard the staged version?', `The staged version of ${name} is deleted; the published one stays.`, 'Discard')
      .then(async (yes) => {
        if (!yes) return;
        const ok = await deleteAction('Discarding the staged version', { isStaging: 1 },
          async () => !(await loadSource(accessId, name).catch(() => null))?.staged, 'Discarded the staged version.');
        if (ok) await render(status.cloneNode(true));
      }),
    visibility: (makePublic) => confirmAction(makePublic ? 'Make public?' : 'Make private?',
      makePublic ? `Any valid key of any account may then query the published version of ${name}, and it appears in the public list.` : `Only this account's keys may query ${name} again.`,
      makePublic ? 'Make public' : 'Make private')
      .then((yes) => yes && jobAction(makePublic ? 'Making public' : 'Making private', `data/${path(accessId, name)}/$updateDataSource`,
        { setPublic: makePublic ? 1 : 0 }, makePublic ? `${name} is public.` : `${name} is private.`)),
    remove: () => confirmAction('Delete the data source?', `${name} and all its versions are deleted. Its accessId is never handed out again. This cannot be undone.`, 'Delete')
      .then(async (yes) => {
        if (!yes) return;
        const ok = await deleteAction(`Deleting ${name}`, {},
          () => loadSource(accessId, name).then(() => false, (error) => error.status === 404), `Deleted ${name}.`);
        if (ok) navigate('#/sources', `Deleted data source ${name}.`);
      }),
  };

  async function render(carriedStatus) {
    const source = await loadSource(accessId, name);
    const metadata = await getText(`data/${path(accessId, name)}/$metadata`);
    const schema = parseMetadata(metadata.body);
    const [publishedCount, stagedCount] = await Promise.all([
      source.published ? entityCount(source, false).catch(() => null) : null,
      source.staged ? entityCount(source, true).catch(() => null) : null,
    ]);
    if (carriedStatus) fill(status, ...carriedStatus.childNodes);
    const rows = [
      source.published ? versionRow(source, source.published, 'published', publishedCount, actions) : null,
      source.staged ? versionRow(source, source.staged, 'staged', stagedCount, actions) : null,
      ...source.previous.map((version) => versionRow(source, version, 'previous', null, actions)),
    ];
    const previewStaged = stagedPreview || !source.published;
    fill(main,
      h('p', {}, h('a', { href: '#/sources' }, '← All data sources')),
      h('h1', { tabindex: '-1' }, source.name),
      h('dl', { class: 'facts', id: 'source-facts' },
        h('dt', {}, 'accessId'), h('dd', {}, h('code', { id: 'source-access-id' }, source.accessId)),
        h('dt', {}, 'Entity type'), h('dd', {}, source.entityType),
        h('dt', {}, 'Entities (published)'), h('dd', { id: 'source-count' }, publishedCount === null ? '—' : String(publishedCount)),
        h('dt', {}, 'Access'), h('dd', {}, h('span', { class: `badge ${source.isPublic ? 'public' : 'private'}`, id: 'source-access' }, source.isPublic ? 'public' : 'private')),
        source.description ? [h('dt', {}, 'Description'), h('dd', {}, source.description)] : null),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', id: 'make-visibility', onclick: () => actions.visibility(!source.isPublic) },
          source.isPublic ? 'Make private' : 'Make public'),
        h('button', { type: 'button', class: 'danger', id: 'delete-source', onclick: () => actions.remove() }, 'Delete data source')),
      status,
      h('h2', {}, 'Versions'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'versions-table' },
        h('thead', {}, h('tr', {}, ['Version', 'Made by job', 'Date', 'Entities', 'Actions', 'Download'].map((title) => h('th', { scope: 'col' }, title)))),
        h('tbody', {}, rows))),
      source.published && source.staged
        ? h('p', {}, h('button', { type: 'button', class: 'secondary', id: 'toggle-staged', onclick: () => { stagedPreview = !stagedPreview; render(); } },
          previewStaged ? 'Preview the published version' : 'Preview the staged version'))
        : null,
      mapSection(source, schema, { staged: previewStaged }),
      h('h2', {}, 'Schema'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'schema-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Property'), h('th', { scope: 'col' }, 'Edm type'), h('th', { scope: 'col' }, 'Key'))),
        h('tbody', {}, schema.properties.map((property) => h('tr', {},
          h('td', {}, property.name), h('td', {}, h('code', {}, property.type)), h('td', {}, property.isKey ? 'primary key' : '')))))));
  }

  render().catch((error) => {
    fill(main, h('p', {}, h('a', { href: '#/sources' }, '← All data sources')), h('h1', {}, name), h('p', { class: 'error-box' }, error.message));
  });
  return () => {};
}
