// Upload: drop a file (or pick one), check the detected format, choose the
// operation, then watch the upload's bytes and the load job's entities.

import { apiUrl, request } from './api.js';
import { announce, field, fill, formatBytes, h, progressBar } from './dom.js';
import { firstJob } from './envelope.js';
import { FORMATS, detectFormat, nameFromFile } from './formats.js';
import { failedRowsButton, progressText, showProgress, sourceHash, watchJob } from './jobs.js';

const OPERATIONS = [
  { value: 'complete', label: 'Complete: replace the data source' },
  { value: 'incremental', label: 'Incremental: add and update entities' },
  { value: 'completeStaging', label: 'Staging, complete: stage a full replacement to publish later' },
  { value: 'incrementalStaging', label: 'Staging, incremental: stage changes to publish later' },
];

/** A file dropped on another page, handed to the upload page when it opens. */
let offered = null;

export function offerFile(file) {
  offered = file;
}

export function uploadView(main) {
  let chosen = null;
  const fileInput = h('input', {
    type: 'file', id: 'upload-file', class: 'visually-hidden', tabindex: '-1',
    accept: '.xml,.csv,.tab,.tsv,.pipe,.txt,.kml,.kmz,.zip,.geojson,.json',
  });
  const fileLabel = h('p', { id: 'upload-chosen' }, 'No file chosen.');
  const zone = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', {}, h('strong', {}, 'Drop a file here')),
    h('p', { class: 'muted' }, 'XML DataSet, CSV, TAB, PIPE, KML/KMZ, zipped Shapefile or GeoJSON; raw, gzip or zip.'),
    h('label', { for: 'upload-file', class: 'button', tabindex: '0', id: 'upload-pick',
      onkeydown: (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); fileInput.click(); } } },
    'Choose a file…'),
    fileInput, fileLabel);
  const nameInput = h('input', { type: 'text', id: 'upload-name', required: true, autocomplete: 'off', maxlength: '50', pattern: '[A-Za-z0-9_\\-]+' });
  const formatSelect = h('select', { id: 'upload-format' },
    h('option', { value: '' }, 'Choose the format'), FORMATS.map((format) => h('option', { value: format.input }, format.label)));
  const formatReason = h('span', { id: 'upload-format-reason', class: 'muted' });
  const operationSelect = h('select', { id: 'upload-operation' }, OPERATIONS.map((operation) => h('option', { value: operation.value }, operation.label)));
  const publicCheck = h('input', { type: 'checkbox', id: 'upload-public' });
  const submit = h('button', { type: 'submit', id: 'upload-submit', disabled: true }, 'Upload');
  const results = h('div', { id: 'upload-results', 'aria-live': 'polite' });

  async function choose(file) {
    if (!file) return;
    chosen = file;
    fileLabel.textContent = `${file.name} (${formatBytes(file.size)})`;
    if (!nameInput.value) nameInput.value = nameFromFile(file.name);
    const detected = await detectFormat(file);
    formatSelect.value = detected.input || '';
    formatReason.textContent = detected.input ? `Detected from ${detected.reason}.` : `Not detected (${detected.reason}): choose it.`;
    submit.disabled = false;
    announce(`${file.name} chosen; format ${detected.input || 'not detected'}`);
  }

  fileInput.addEventListener('change', () => choose(fileInput.files[0]));
  // The whole page takes the drop; the zone shows where it lands. The
  // listeners go when the page changes (`listening.abort()`).
  const listening = new AbortController();
  const { signal } = listening;
  main.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  }, { signal });
  main.addEventListener('dragleave', (event) => {
    if (!main.contains(event.relatedTarget)) zone.classList.remove('over');
  }, { signal });
  main.addEventListener('drop', (event) => {
    event.preventDefault();
    event.stopPropagation();
    zone.classList.remove('over');
    choose(event.dataTransfer.files[0]);
  }, { signal });

  async function upload(event) {
    event.preventDefault();
    if (!chosen) return;
    if (!formatSelect.value) {
      formatSelect.focus();
      fill(results, h('p', { class: 'error-box' }, 'Choose the format of the file.'));
      return;
    }
    const name = nameInput.value.trim();
    const uploadBar = progressBar('Upload progress');
    const jobBar = progressBar('Load job progress');
    const outcome = h('div', { class: 'upload-outcome' });
    const card = h('div', { class: 'card upload-card' },
      h('h2', {}, `${name} — ${chosen.name}`),
      h('p', {}, 'Upload'), uploadBar.element,
      h('p', {}, 'Load job'), jobBar.element, outcome);
    results.prepend(card);
    submit.disabled = true;
    try {
      const url = apiUrl('Dataflows/LoadDataSource', {
        dataSourceName: name,
        loadOperation: operationSelect.value,
        input: formatSelect.value,
        setPublic: publicCheck.checked ? 1 : undefined,
        output: 'json',
      });
      const answer = await request('POST', url, {
        body: chosen,
        contentType: 'application/octet-stream',
        onUploadProgress: (progress) => {
          uploadBar.set(progress.loaded, progress.lengthComputable ? progress.total : 0,
            `${formatBytes(progress.loaded)}${progress.lengthComputable ? ` of ${formatBytes(progress.total)}` : ''}`);
        },
      });
      uploadBar.set(1, 1, `Uploaded ${formatBytes(chosen.size)}`);
      const created = firstJob(JSON.parse(answer.body));
      const finished = await watchJob(answer.location || created.selfUrl, (state) => showProgress(jobBar, state));
      announce(`Load job ${finished.status}`);
      fill(outcome,
        h('p', { class: `upload-status ${finished.status === 'Completed' ? 'notice' : 'error-box'}`, dataset: { status: finished.status } }, progressText(finished)),
        finished.dataSourceUrl ? h('p', {}, h('a', { href: sourceHash(finished.dataSourceUrl) }, `Open ${name}`)) : null,
        finished.failed > 0 && finished.failedUrl ? failedRowsButton(finished) : null);
    } catch (error) {
      fill(outcome, h('p', { class: 'upload-status error-box', dataset: { status: 'Refused' } }, `The upload failed: ${error.message}`));
    } finally {
      submit.disabled = false;
    }
  }

  fill(main,
    h('h1', { tabindex: '-1' }, 'Upload'),
    h('form', { id: 'upload-form', onsubmit: upload },
      zone,
      h('div', { class: 'row' },
        field('Data source name', nameInput, 'Letters, digits, - and _; an existing name loads into that data source.'),
        h('div', { class: 'field' }, h('label', { for: 'upload-format' }, 'Format'), formatSelect, formatReason),
        field('Operation', operationSelect)),
      h('label', { class: 'check' }, publicCheck, 'Make the data source public'),
      submit),
    results);
  if (offered) {
    choose(offered);
    offered = null;
  }
  return () => listening.abort();
}
