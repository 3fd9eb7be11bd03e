// The map preview of a data source: a query box (spatialFilter and
// $filter), the count of results, the map, a keyboard-reachable list of the
// results and the properties of the selected entity.

import { apiUrl, path, request } from './api.js';
import { field, fill, h, showError } from './dom.js';
import { MapCanvas } from './map.js';
import { geoJsonParts, parseWkt } from './wkt.js';

/** Entities drawn at most (pages of 250, the Query API's `$top` limit). */
const DRAWN_LIMIT = 2000;
const PAGE = 250;

let countries = null;

/** The base layer, fetched once per page load from the server itself. */
function loadCountries() {
  if (!countries) {
    countries = request('GET', new URL('console/countries-110m.geojson', document.baseURI).toString())
      .then((answer) => JSON.parse(answer.body).features.flatMap((feature) => geoJsonParts(feature.geometry)))
      .catch((error) => {
        countries = null;
        throw new Error(`The country outlines did not load: ${error.message}`);
      });
  }
  return countries;
}

/** How an entity's shape is found: a Geography property, else Latitude/Longitude. */
function shapeReader(schema) {
  const geography = schema.properties.find((property) => property.type === 'Edm.Geography');
  const named = (name) => schema.properties.find((property) => property.name.toLowerCase() === name);
  const latitude = named('latitude');
  const longitude = named('longitude');
  return (entity) => {
    if (geography && typeof entity[geography.name] === 'string' && entity[geography.name]) {
      try {
        return parseWkt(entity[geography.name]);
      } catch (_) {
        // Fall back to the point SDS derives for every geography.
      }
    }
    if (latitude && longitude) {
      const lat = Number(entity[latitude.name]);
      const lon = Number(entity[longitude.name]);
      if (Number.isFinite(lat) && Number.isFinite(lon) && entity[latitude.name] !== null) {
        return [{ kind: 'point', point: [lon, lat] }];
      }
    }
    return [];
  };
}

function queryParams(spatialFilter, filter, staged) {
  return {
    spatialFilter: spatialFilter || undefined,
    $filter: filter || undefined,
    isStaging: staged ? 1 : undefined,
  };
}

/**
 * The map section for one data source version. `source` = `{accessId, name,
 * entityType}`, `schema` from `$metadata`; `staged` previews the staged version.
 */
export function mapSection(source, schema, { staged = false } = {}) {
  const queryPath = `data/${path(source.accessId, source.name, source.entityType)}`;
  const readShape = shapeReader(schema);
  const keyProperty = schema.key[0] || 'EntityID';
  const labelProperty = schema.properties.find((property) => /^(name|title|displayname)$/i.test(property.name));

  const spatialInput = h('input', {
    type: 'text', name: 'spatialFilter', id: 'query-spatial', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'bbox(47.5,-122.5,47.8,-122.0)',
  });
  const filterInput = h('input', {
    type: 'text', name: 'filter', id: 'query-filter', autocomplete: 'off', spellcheck: 'false',
    placeholder: "Name eq 'Fourth Coffee'",
  });
  const count = h('p', { id: 'result-count', role: 'status', 'aria-live': 'polite' }, 'Loading the entities…');
  const urlBox = h('input', { type: 'text', readonly: true, id: 'query-url', 'aria-label': 'Query URL for an application' });
  const ogcBox = h('input', { type: 'text', readonly: true, id: 'ogc-url', 'aria-label': 'OGC API – Features items URL for GIS tools' });
  const canvas = h('canvas', {
    id: 'map', tabindex: '0', role: 'application', 'aria-roledescription': 'map',
    'aria-label': 'Map of the entities. Drag or use the arrow keys to pan, the wheel or + and - to zoom, 0 to fit.',
  });
  const properties = h('div', { class: 'properties', id: 'properties', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Click an entity on the map, or pick one in the list, to see its properties.'));
  const list = h('ul', { class: 'results-list', id: 'results-list', 'aria-label': 'Results' });
  let entities = [];
  const map = new MapCanvas(canvas, { onSelect: (index) => showEntity(index) });
  const zoomButton = (label, text, action) => h('button', { type: 'button', 'aria-label': label, title: label, onclick: action }, text);
  const controls = h('div', { class: 'map-controls' },
    zoomButton('Zoom in', '+', () => { map.userMoved = true; map.zoom(1.5); }),
    zoomButton('Zoom out', '−', () => { map.userMoved = true; map.zoom(1 / 1.5); }),
    zoomButton('Show all results', '⤢', () => map.fit()));

  function showEntity(index) {
    [...list.querySelectorAll('button')].forEach((button, position) => {
      button.setAttribute('aria-pressed', String(position === index));
    });
    if (index < 0) {
      fill(properties, h('p', { class: 'muted' }, 'No entity there. Click a point, line or area.'));
      return;
    }
    const entity = entities[index];
    const rows = Object.entries(entity).filter(([name]) => name !== '__metadata').flatMap(([name, value]) => [
      h('dt', {}, name),
      h('dd', {}, value === null ? '(null)' : typeof value === 'object' ? JSON.stringify(value) : String(value)),
    ]);
    fill(properties, h('h3', {}, `Entity ${entity[keyProperty] ?? index + 1}`), h('dl', {}, rows));
  }

  function showUrl(spatialFilter, filter) {
    const url = new URL(apiUrl(queryPath, { ...queryParams(spatialFilter, filter, staged), $format: 'json' }, null));
    url.searchParams.set('key', 'QUERY_KEY');
    urlBox.value = decodeURIComponent(url.toString()).replace('QUERY_KEY', '{queryKey}');
    // The same data as an OGC API – Features collection (README, "OGC API –
    // Features"): a bbox(south,west,north,east) becomes bbox=west,south,east,north.
    const collection = encodeURIComponent(`${source.accessId}.${source.name}`);
    const ogc = new URL(`ogc/collections/${collection}/items`, document.baseURI);
    const box = /^bbox\(\s*([^,]+),([^,]+),([^,]+),([^)]+)\)$/i.exec(spatialFilter);
    if (box) ogc.searchParams.set('bbox', [box[2], box[1], box[4], box[3]].map((n) => n.trim()).join(','));
    if (staged) ogc.searchParams.set('isStaging', '1');
    ogc.searchParams.set('key', 'QUERY_KEY');
    ogcBox.value = decodeURIComponent(ogc.toString()).replace('QUERY_KEY', '{queryKey}');
  }

  async function run() {
    const spatialFilter = spatialInput.value.trim();
    const filter = filterInput.value.trim();
    showUrl(spatialFilter, filter);
    count.textContent = 'Querying…';
    try {
      const found = [];
      let total = null;
      for (let skip = 0; skip < DRAWN_LIMIT; skip += PAGE) {
        const params = {
          ...queryParams(spatialFilter, filter, staged), $format: 'json', $top: PAGE,
          $skip: skip || undefined, $inlinecount: skip === 0 ? 'allpages' : undefined,
        };
        const answer = await request('GET', apiUrl(queryPath, params));
        const body = JSON.parse(answer.body).d;
        if (skip === 0) total = Number(body.__count ?? body.results.length);
        found.push(...body.results);
        if (body.results.length < PAGE || found.length >= total) break;
      }
      entities = found;
      map.setFeatures(entities.map((entity) => ({ parts: readShape(entity) })));
      fill(list, entities.slice(0, 500).map((entity, index) => h('li', {},
        h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => { map.select(index); showEntity(index); } },
          `${entity[keyProperty] ?? index + 1}${labelProperty ? ` — ${entity[labelProperty.name] ?? ''}` : ''}`))));
      const shown = entities.length < total ? ` (the map shows the first ${entities.length})` : '';
      count.textContent = `${total} ${total === 1 ? 'result' : 'results'}${shown}`;
      count.dataset.count = String(total);
      fill(properties, h('p', { class: 'muted' }, 'Click an entity on the map, or pick one in the list, to see its properties.'));
    } catch (error) {
      count.textContent = `The query failed: ${error.message}`;
      delete count.dataset.count;
    }
  }

  const form = h('form', { class: 'card', id: 'query-form', onsubmit: (event) => { event.preventDefault(); run(); } },
    h('div', { class: 'row' },
      field('Spatial filter', spatialInput, 'nearby(lat,lon,km), bbox(south,west,north,east) or intersects(\'WKT\')'),
      field('$filter', filterInput, 'OData: eq, ne, gt, ge, lt, le, and, or, not, startswith, endswith, in'),
      h('div', { class: 'field' }, h('button', { type: 'submit', id: 'query-run' }, 'Run query'))),
    count,
    h('div', { class: 'copy' }, urlBox, copyButton(urlBox)),
    h('div', { class: 'copy' }, ogcBox, copyButton(ogcBox)));

  const section = h('section', { 'aria-labelledby': 'map-title' },
    h('h2', { id: 'map-title' }, staged ? 'Map of the staged version' : 'Map'),
    form,
    h('div', { class: 'map-layout' },
      h('div', { class: 'map-box' }, canvas, controls),
      h('div', {}, properties, list)));

  loadCountries().then((parts) => map.setBase(parts), showError);
  // Drawn after the section is in the page (the canvas needs its size).
  requestAnimationFrame(() => run());
  return section;
}

/** A button that copies an input's text (falls back to selecting it). */
export function copyButton(input) {
  return h('button', {
    type: 'button', class: 'secondary',
    onclick: async (event) => {
      const button = event.currentTarget;
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = 'Copied';
      } catch (_) {
        input.select();
        button.textContent = 'Selected: press Ctrl+C';
      }
      setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    },
  }, 'Copy');
}
