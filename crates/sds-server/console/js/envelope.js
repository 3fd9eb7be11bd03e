// Reading the SDS answers the console uses: the AtomPub service document of
// data sources (it alone carries accessIds and version flags), EDMX
// `$metadata` (the schema), and JSON job resources.

const APP = 'http://www.w3.org/2007/app';
const ATOM = 'http://www.w3.org/2005/Atom';
const BSI = 'http://schemas.microsoft.com/bing/spatial/2010/11/odata';

function parseXml(text, what) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new Error(`The ${what} is not valid XML.`);
  return doc;
}

/**
 * Workspaces of a service document: `{name, accessId, entityType, isPublic,
 * updated, uploaded, description, jobId, isStaging, isActive}`; the three
 * last only with `showAllVersions`.
 */
export function parseServiceDocument(text) {
  const doc = parseXml(text, 'data source list');
  return [...doc.getElementsByTagNameNS(APP, 'workspace')].map((workspace) => {
    const collection = workspace.getElementsByTagNameNS(APP, 'collection')[0];
    const href = collection ? collection.getAttributeNS(APP, 'href') || collection.getAttribute('href') || '' : '';
    const afterData = href.split('/data/')[1] || '';
    const [accessId = '', , entityType = ''] = afterData.split('/').map(decodeURIComponent);
    const child = (namespace, name) => {
      const element = [...workspace.children].find((item) => item.namespaceURI === namespace && item.localName === name);
      return element ? element.textContent : null;
    };
    const flag = (name) => {
      const value = workspace.getAttributeNS(BSI, name);
      return value === null || value === '' ? null : value === 'true';
    };
    return {
      name: child(ATOM, 'title') || '',
      accessId,
      entityType,
      collectionUrl: href,
      isPublic: flag('isPublic') === true,
      updated: workspace.getAttributeNS(BSI, 'updated'),
      uploaded: workspace.getAttributeNS(BSI, 'uploaded'),
      description: child(BSI, 'description'),
      jobId: child(ATOM, 'jobId'),
      isStaging: flag('isStagingDataSource'),
      isActive: flag('isActive'),
    };
  });
}

/** `{entityType, key, properties: [{name, type, nullable}]}` from EDMX. */
export function parseMetadata(text) {
  const doc = parseXml(text, 'schema ($metadata)');
  const entityType = [...doc.getElementsByTagName('EntityType')][0];
  if (!entityType) throw new Error('The schema ($metadata) names no entity type.');
  const key = [...entityType.getElementsByTagName('PropertyRef')].map((ref) => ref.getAttribute('Name'));
  const properties = [...entityType.getElementsByTagName('Property')].map((property) => ({
    name: property.getAttribute('Name'),
    type: property.getAttribute('Type'),
    nullable: property.getAttribute('Nullable') !== 'false',
    isKey: key.includes(property.getAttribute('Name')),
  }));
  return { entityType: entityType.getAttribute('Name'), key, properties };
}

/** Statuses after which a job changes no more. */
export function isFinished(status) {
  return status === 'Completed' || status === 'Aborted';
}

/** A job resource of a JSON envelope, with plain names. */
export function job(resource) {
  const link = (role, name) => {
    const found = (resource.links || []).find((item) => item.role === role && (!name || item.name === name));
    return found ? found.url : null;
  };
  return {
    id: resource.id,
    name: resource.name,
    kind: resource.description || resource.__type?.split(':')[0] || '',
    status: resource.status,
    created: resource.createdDate ? new Date(resource.createdDate) : null,
    completed: resource.completedDate ? new Date(resource.completedDate) : null,
    total: resource.totalEntityCount ?? null,
    processed: resource.processedEntityCount ?? null,
    failed: resource.failedEntityCount ?? 0,
    error: resource.errorMessage || null,
    selfUrl: link('self'),
    dataSourceUrl: link('dataSource'),
    failedUrl: link('output', 'failed'),
    succeededUrl: link('output', 'succeeded'),
  };
}

/** The first job of a JSON envelope. */
export function firstJob(body) {
  const resource = body?.resourceSets?.[0]?.resources?.[0];
  if (!resource) throw new Error('The answer holds no job.');
  return job(resource);
}

/** `{accessId, name}` from a `…/data/{accessId}/{name}` link. */
export function sourceOfLink(url) {
  if (!url) return null;
  const [accessId, name] = (new URL(url).pathname.split('/data/')[1] || '').split('/').map(decodeURIComponent);
  return accessId && name ? { accessId, name } : null;
}
