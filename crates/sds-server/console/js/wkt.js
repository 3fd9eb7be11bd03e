// Well-Known Text (OGC 06-103r4 §7) as SDS returns Edm.Geography values:
// `POINT(x y)`, `LINESTRING(…)`, `POLYGON((…),(…))`, their MULTI forms and
// `GEOMETRYCOLLECTION(…)`, longitude first. Parsed into drawable parts:
// `{kind: 'point', point}`, `{kind: 'line', points}`, `{kind: 'polygon', rings}`.

/** The parts of a WKT text; throws an Error naming the position of a fault. */
export function parseWkt(text) {
  let position = 0;
  const fail = (what) => {
    throw new Error(`WKT: expected ${what} at character ${position + 1}`);
  };
  const skip = () => {
    while (position < text.length && /\s/.test(text[position])) position += 1;
  };
  const word = () => {
    skip();
    const match = /^[A-Za-z]+/.exec(text.slice(position));
    if (!match) fail('a geometry type');
    position += match[0].length;
    return match[0].toUpperCase();
  };
  const peek = (character) => {
    skip();
    return text[position] === character;
  };
  const expect = (character) => {
    if (!peek(character)) fail(`'${character}'`);
    position += 1;
  };
  const number = () => {
    skip();
    const match = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(position));
    if (!match) fail('a number');
    position += match[0].length;
    return Number(match[0]);
  };
  const point = () => {
    const x = number();
    const y = number();
    // Z and M values, when present, are not drawn.
    while (!peek(',') && !peek(')')) number();
    return [x, y];
  };
  const list = (item) => {
    expect('(');
    const items = [item()];
    while (peek(',')) {
      position += 1;
      items.push(item());
    }
    expect(')');
    return items;
  };
  const empty = () => {
    skip();
    if (/^EMPTY/i.test(text.slice(position))) {
      position += 5;
      return true;
    }
    return false;
  };
  const geometry = () => {
    const type = word();
    if (empty()) return [];
    switch (type) {
      case 'POINT':
        return [{ kind: 'point', point: list(point)[0] }];
      case 'LINESTRING':
        return [{ kind: 'line', points: list(point) }];
      case 'POLYGON':
        return [{ kind: 'polygon', rings: list(() => list(point)) }];
      case 'MULTIPOINT':
        // Both `MULTIPOINT(1 2, 3 4)` and `MULTIPOINT((1 2), (3 4))` occur.
        return list(() => (peek('(') ? list(point)[0] : point())).map((item) => ({ kind: 'point', point: item }));
      case 'MULTILINESTRING':
        return list(() => list(point)).map((points) => ({ kind: 'line', points }));
      case 'MULTIPOLYGON':
        return list(() => list(() => list(point))).map((rings) => ({ kind: 'polygon', rings }));
      case 'GEOMETRYCOLLECTION':
        return list(geometry).flat();
      default:
        return fail('a geometry type');
    }
  };
  const parts = geometry();
  skip();
  if (position !== text.length) fail('the end');
  return parts;
}

/** Parts of a GeoJSON geometry (RFC 7946 §3.1), same shape as `parseWkt`. */
export function geoJsonParts(geometry) {
  if (!geometry) return [];
  const { type, coordinates } = geometry;
  switch (type) {
    case 'Point':
      return [{ kind: 'point', point: coordinates }];
    case 'MultiPoint':
      return coordinates.map((point) => ({ kind: 'point', point }));
    case 'LineString':
      return [{ kind: 'line', points: coordinates }];
    case 'MultiLineString':
      return coordinates.map((points) => ({ kind: 'line', points }));
    case 'Polygon':
      return [{ kind: 'polygon', rings: coordinates }];
    case 'MultiPolygon':
      return coordinates.map((rings) => ({ kind: 'polygon', rings }));
    case 'GeometryCollection':
      return geometry.geometries.flatMap(geoJsonParts);
    default:
      return [];
  }
}
