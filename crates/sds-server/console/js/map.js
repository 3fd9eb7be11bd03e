// A small map drawn on a <canvas>: Web Mercator (EPSG:3857), a base layer
// of country outlines, and entities (points, lines, polygons) on top. Pans
// by dragging or with the arrow keys, zooms with the wheel, +/- keys or the
// buttons; a click (or tap) on an entity selects it.

const MAX_LATITUDE = 85.05112878;
const MIN_SCALE = 64; // pixels for the whole world's width: the world at its smallest
const MAX_SCALE = 2 ** 30;

/** Longitude/latitude in degrees → Web Mercator in [0, 1] (y down). */
export function project([longitude, latitude]) {
  const clamped = Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, latitude));
  const sine = Math.sin((clamped * Math.PI) / 180);
  return [(longitude + 180) / 360, 0.5 - Math.log((1 + sine) / (1 - sine)) / (4 * Math.PI)];
}

function projectPart(part) {
  switch (part.kind) {
    case 'point':
      return { kind: 'point', point: project(part.point) };
    case 'line':
      return { kind: 'line', points: part.points.map(project) };
    default:
      return { kind: 'polygon', rings: part.rings.map((ring) => ring.map(project)) };
  }
}

function partPoints(part) {
  if (part.kind === 'point') return [part.point];
  if (part.kind === 'line') return part.points;
  return part.rings.flat();
}

function distanceToSegment([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const length = dx * dx + dy * dy;
  const t = length === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function insideRings([px, py], rings) {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

export class MapCanvas {
  /** `onSelect(index or -1)` is called when a click selects an entity. */
  constructor(canvas, { onSelect = () => {} } = {}) {
    this.canvas = canvas;
    this.onSelect = onSelect;
    this.base = [];
    this.features = [];
    this.selected = -1;
    this.center = [0.5, 0.5];
    this.scale = 256;
    this.colors = this.readColors();
    this.listen();
    // Until the user pans or zooms, a new size (a rotated phone, a
    // scrollbar) shows every entity again.
    this.userMoved = false;
    this.resizeObserver = new ResizeObserver(() => (this.userMoved ? this.draw() : this.fit()));
    this.resizeObserver.observe(canvas);
  }

  readColors() {
    const style = getComputedStyle(document.documentElement);
    const get = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    return {
      sea: get('--sea', '#dfeaf5'),
      land: get('--land', '#f7f4ea'),
      border: get('--border', '#8a94a3'),
      entity: get('--entity', '#c2185b'),
      selected: get('--selected', '#e37400'),
    };
  }

  /** Country outlines: a list of parts (longitude/latitude). */
  setBase(parts) {
    this.base = parts.map(projectPart);
    this.draw();
  }

  /** Entities: `[{parts}]` in longitude/latitude; clears the selection. */
  setFeatures(features) {
    this.features = features.map((feature) => ({ ...feature, projected: feature.parts.map(projectPart) }));
    this.selected = -1;
    this.userMoved = false;
    this.fit();
  }

  select(index) {
    this.selected = index;
    this.draw();
  }

  /** Shows every entity (or the world when there is none). */
  fit() {
    const points = this.features.flatMap((feature) => feature.projected.flatMap(partPoints));
    const { width, height } = this.size();
    if (points.length === 0) {
      this.center = [0.5, 0.5];
      this.scale = Math.max(MIN_SCALE, Math.min(width, height * 1.6));
    } else {
      const xs = points.map((point) => point[0]);
      const ys = points.map((point) => point[1]);
      const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      this.center = [(minX + maxX) / 2, (minY + maxY) / 2];
      const spanX = Math.max(maxX - minX, 1e-6);
      const spanY = Math.max(maxY - minY, 1e-6);
      // A single point gets a city-sized view rather than an infinite zoom.
      const fitted = Math.min((width * 0.8) / spanX, (height * 0.8) / spanY);
      this.scale = Math.max(MIN_SCALE, Math.min(fitted, 2 ** 20));
    }
    this.draw();
  }

  zoom(factor, around) {
    const { width, height } = this.size();
    const anchor = around || [width / 2, height / 2];
    const before = this.toWorld(anchor);
    this.scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, this.scale * factor));
    const after = this.toWorld(anchor);
    this.center = [this.center[0] + before[0] - after[0], this.center[1] + before[1] - after[1]];
    this.draw();
  }

  pan(dx, dy) {
    this.center = [this.center[0] - dx / this.scale, this.center[1] - dy / this.scale];
    this.draw();
  }

  size() {
    return { width: this.canvas.clientWidth || 300, height: this.canvas.clientHeight || 200 };
  }

  toScreen([x, y]) {
    const { width, height } = this.size();
    return [(x - this.center[0]) * this.scale + width / 2, (y - this.center[1]) * this.scale + height / 2];
  }

  toWorld([sx, sy]) {
    const { width, height } = this.size();
    return [(sx - width / 2) / this.scale + this.center[0], (sy - height / 2) / this.scale + this.center[1]];
  }

  /** The index of the entity drawn at a screen position, or -1. */
  hit(screenPoint) {
    const world = this.toWorld(screenPoint);
    for (let index = this.features.length - 1; index >= 0; index -= 1) {
      for (const part of this.features[index].projected) {
        if (part.kind === 'point') {
          const [sx, sy] = this.toScreen(part.point);
          if (Math.hypot(sx - screenPoint[0], sy - screenPoint[1]) <= 8) return index;
        } else if (part.kind === 'line') {
          const screen = part.points.map((point) => this.toScreen(point));
          for (let i = 1; i < screen.length; i += 1) {
            if (distanceToSegment(screenPoint, screen[i - 1], screen[i]) <= 6) return index;
          }
        } else if (insideRings(world, part.rings)) {
          return index;
        }
      }
    }
    return -1;
  }

  listen() {
    const canvas = this.canvas;
    let drag = null;
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      drag = { x: event.offsetX, y: event.offsetY, startX: event.offsetX, startY: event.offsetY };
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!drag) return;
      this.userMoved = true;
      this.pan(event.offsetX - drag.x, event.offsetY - drag.y);
      drag.x = event.offsetX;
      drag.y = event.offsetY;
    });
    canvas.addEventListener('pointerup', (event) => {
      if (!drag) return;
      const moved = Math.hypot(event.offsetX - drag.startX, event.offsetY - drag.startY);
      drag = null;
      if (moved < 4) {
        const index = this.hit([event.offsetX, event.offsetY]);
        this.select(index);
        this.onSelect(index);
      }
    });
    canvas.addEventListener('pointercancel', () => {
      drag = null;
    });
    canvas.addEventListener('wheel', (event) => {
      event.preventDefault();
      this.userMoved = true;
      this.zoom(event.deltaY < 0 ? 1.25 : 0.8, [event.offsetX, event.offsetY]);
    }, { passive: false });
    canvas.addEventListener('keydown', (event) => {
      const step = 60;
      const actions = {
        ArrowLeft: () => this.pan(step, 0),
        ArrowRight: () => this.pan(-step, 0),
        ArrowUp: () => this.pan(0, step),
        ArrowDown: () => this.pan(0, -step),
        '+': () => this.zoom(1.5),
        '=': () => this.zoom(1.5),
        '-': () => this.zoom(1 / 1.5),
        0: () => this.fit(),
      };
      const action = actions[event.key];
      if (action) {
        event.preventDefault();
        this.userMoved = true;
        action();
      }
    });
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this.size();
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = this.colors.sea;
    context.fillRect(0, 0, width, height);
    // The base layer is drawn once per visible copy of the world, so
    // panning past the antimeridian still shows land.
    context.lineJoin = 'round';
    context.fillStyle = this.colors.land;
    context.strokeStyle = this.colors.border;
    context.lineWidth = 0.7;
    const left = this.toWorld([0, 0])[0];
    const right = this.toWorld([width, 0])[0];
    for (let copy = Math.floor(left); copy <= Math.floor(right); copy += 1) {
      context.beginPath();
      for (const part of this.base) {
        if (part.kind === 'polygon') this.tracePolygon(context, part.rings, copy);
      }
      context.fill('evenodd');
      context.stroke();
    }
    this.features.forEach((feature, index) => {
      if (index !== this.selected) this.drawFeature(context, feature, this.colors.entity, false);
    });
    if (this.selected >= 0 && this.features[this.selected]) {
      this.drawFeature(context, this.features[this.selected], this.colors.selected, true);
    }
  }

  tracePolygon(context, rings, offset = 0) {
    for (const ring of rings) {
      ring.forEach((point, index) => {
        const [sx, sy] = this.toScreen([point[0] + offset, point[1]]);
        if (index === 0) context.moveTo(sx, sy);
        else context.lineTo(sx, sy);
      });
      context.closePath();
    }
  }

  drawFeature(context, feature, color, selected) {
    context.strokeStyle = color;
    context.fillStyle = color;
    for (const part of feature.projected) {
      if (part.kind === 'point') {
        const [sx, sy] = this.toScreen(part.point);
        context.beginPath();
        context.arc(sx, sy, selected ? 7 : 5, 0, 2 * Math.PI);
        context.fill();
        context.lineWidth = 1.5;
        context.strokeStyle = '#ffffff';
        context.stroke();
        context.strokeStyle = color;
      } else if (part.kind === 'line') {
        context.beginPath();
        part.points.forEach((point, index) => {
          const [sx, sy] = this.toScreen(point);
          if (index === 0) context.moveTo(sx, sy);
          else context.lineTo(sx, sy);
        });
        context.lineWidth = selected ? 4 : 2.5;
        context.stroke();
      } else {
        context.beginPath();
        this.tracePolygon(context, part.rings);
        context.globalAlpha = selected ? 0.45 : 0.3;
        context.fill('evenodd');
        context.globalAlpha = 1;
        context.lineWidth = selected ? 3 : 1.5;
        context.stroke();
      }
    }
  }
}
