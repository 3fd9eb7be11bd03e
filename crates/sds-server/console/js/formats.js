// Which `input=` an upload is: from the file name, checked against the
// first bytes (SDS formats: XML DataSet, CSV/TAB/PIPE with the
// `Bing Spatial Data Services, 1.0, Type` first line, KML/KMZ, zipped
// Shapefile, GeoJSON).

export const FORMATS = [
  { input: 'xml', label: 'XML DataSet (.xml)' },
  { input: 'csv', label: 'CSV, comma-separated (.csv)' },
  { input: 'tab', label: 'TAB, tab-separated (.tab, .tsv, .txt)' },
  { input: 'pipe', label: 'PIPE, pipe-separated (.pipe, .txt)' },
  { input: 'kml', label: 'KML or KMZ (.kml, .kmz)' },
  { input: 'shp', label: 'Shapefile, zipped (.zip)' },
  { input: 'geojson', label: 'GeoJSON (.geojson, .json)' },
];

const BY_EXTENSION = {
  xml: 'xml', csv: 'csv', tab: 'tab', tsv: 'tab', pipe: 'pipe', kml: 'kml', kmz: 'kml',
  zip: 'shp', shp: 'shp', geojson: 'geojson', json: 'geojson',
};

/** The separator of the SDS version line, if `text` starts with one. */
function separatedFormat(text) {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0];
  if (!/^Bing Spatial Data Services/i.test(firstLine)) return null;
  if (firstLine.includes('\t')) return 'tab';
  if (firstLine.includes('|')) return 'pipe';
  return 'csv';
}

/**
 * `{input, reason}` for a File: the content decides when it is clear (a
 * zip, XML, JSON, the SDS version line), else the extension; `input` is
 * null when neither tells.
 */
export async function detectFormat(file) {
  const extension = (file.name.split('.').pop() || '').toLowerCase();
  const head = new Uint8Array(await file.slice(0, 512).arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const byName = BY_EXTENSION[extension] || null;
  if (head[0] === 0x50 && head[1] === 0x4b) {
    if (extension === 'kmz') return { input: 'kml', reason: 'a zip named .kmz: KMZ' };
    return { input: 'shp', reason: 'a zip archive: a zipped Shapefile' };
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    return { input: byName, reason: 'gzip-compressed; the format comes from the name' };
  }
  const separated = separatedFormat(text);
  if (separated) return { input: separated, reason: 'the SDS version line of a delimited file' };
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) return { input: 'geojson', reason: 'JSON content: GeoJSON' };
  if (trimmed.startsWith('<')) {
    if (/<kml[\s>]/i.test(text) || extension === 'kml') return { input: 'kml', reason: 'XML with a <kml> element' };
    return { input: 'xml', reason: 'XML content: an XML DataSet' };
  }
  return { input: byName, reason: byName ? `the file name ends .${extension}` : 'neither the name nor the content tells' };
}

/** A data source name from a file name: its stem, without characters SDS refuses. */
export function nameFromFile(fileName) {
  const stem = fileName.replace(/\.[^.]*$/, '');
  const cleaned = stem.replace(/[^A-Za-z0-9_-]/g, '');
  return cleaned.slice(0, 50) || 'DataSource';
}
