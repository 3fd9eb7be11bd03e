// The account's data sources: name, accessId, entity type, entity count,
// access, the published version (date, job) and the staged one.

import { getText } from './api.js';
import { fill, formatDate, h, shortId } from './dom.js';
import { parseServiceDocument } from './envelope.js';
import { entityCount, loadSource } from './source.js';

function cell(label, ...content) {
  return h('td', { 'data-label': label }, ...content);
}

export function sourcesView(main) {
  const body = h('tbody');
  const summary = h('p', { id: 'sources-summary' }, 'Loading the data sources…');
  fill(main,
    h('h1', { tabindex: '-1' }, 'Data sources'),
    summary,
    h('div', { class: 'table-wrap' }, h('table', { class: 'stack', id: 'sources-table' },
      h('thead', {}, h('tr', {}, ['Name', 'accessId', 'Entity type', 'Entities', 'Access', 'Published', 'Staged']
        .map((title) => h('th', { scope: 'col' }, title)))),
      body)));

  (async () => {
    const listed = parseServiceDocument((await getText('data')).body);
    summary.textContent = listed.length
      ? `${listed.length} data ${listed.length === 1 ? 'source' : 'sources'}`
      : 'No data sources yet: upload one.';
    const rows = await Promise.all(listed.map(async (item) => {
      try {
        const source = await loadSource(item.accessId, item.name);
        const count = await entityCount(source, !source.published).catch(() => null);
        return { source, count };
      } catch (error) {
        return { source: { ...item, published: null, staged: null }, count: null, error };
      }
    }));
    fill(body, rows.map(({ source, count, error }) => h('tr', { dataset: { name: source.name } },
      cell('Name', h('a', { href: `#/source/${encodeURIComponent(source.accessId)}/${encodeURIComponent(source.name)}` }, source.name),
        error ? h('p', { class: 'error-box' }, error.message) : null),
      cell('accessId', h('code', {}, source.accessId)),
      cell('Entity type', source.entityType),
      cell('Entities', h('span', { class: 'count' }, count === null ? '—' : String(count)), source.published ? '' : ' (staged)'),
      cell('Access', h('span', { class: `badge ${source.isPublic ? 'public' : 'private'}` }, source.isPublic ? 'public' : 'private')),
      cell('Published', source.published
        ? [formatDate(source.published.updated), h('br'), h('span', { class: 'muted' }, 'job '), shortId(source.published.jobId)]
        : 'none'),
      cell('Staged', source.staged
        ? [formatDate(source.staged.updated), h('br'), h('span', { class: 'muted' }, 'job '), shortId(source.staged.jobId)]
        : 'none'))));
  })().catch((error) => {
    summary.replaceWith(h('p', { class: 'error-box' }, error.message));
  });
  return () => {};
}
