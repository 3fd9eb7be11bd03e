// Small DOM helpers. Text from the server is always set as text, never as
// HTML, so a data source name or property value cannot inject markup.

/** `h('a', {href: '#/x', onclick: f}, 'text', child)`: an element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  let value;
  for (const [name, given] of Object.entries(attributes || {})) {
    if (given === undefined || given === null || given === false) continue;
    if (name.startsWith('on') && typeof given === 'function') {
      element.addEventListener(name.slice(2), given);
    } else if (name === 'class') {
      element.className = given;
    } else if (name === 'value') {
      value = given;
    } else if (name === 'checked' || name === 'disabled' || name === 'hidden' || name === 'selected') {
      element[name] = Boolean(given);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, given);
    } else {
      element.setAttribute(name, given === true ? '' : String(given));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  if (value !== undefined) element.value = value;
  return element;
}

/** Replaces the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A labelled form field: `<div class=field><label for=id>…</label>control hint</div>`. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintElement = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement);
}

/** Says `text` to screen readers (the page's polite live region). */
export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

/** Shows an error in the page's alert region (dismissible). */
export function showError(error) {
  const box = document.getElementById('errors');
  const text = error instanceof Error ? error.message : String(error);
  const item = h('p', { class: 'error' }, text,
    h('button', { type: 'button', class: 'secondary', onclick: () => item.remove() }, 'Dismiss'));
  box.append(item);
}

export function clearErrors() {
  document.getElementById('errors').replaceChildren();
}

/** `Mon, 30 Nov 2026 04:03:47 GMT` or ISO text → local date and time. */
export function formatDate(value) {
  if (!value) return '';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDuration(milliseconds) {
  if (milliseconds < 0 || !Number.isFinite(milliseconds)) return '';
  const seconds = milliseconds / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Asks before a destructive action (the page's modal dialog); resolves to true on Confirm. */
export function confirmAction(title, text, confirmLabel = 'Confirm') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** A `<progress>` with a caption, updated by `set(value, max, text)`. */
export function progressBar(label) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': label });
  bar.removeAttribute('value'); // indeterminate until a total is known
  const caption = h('span', {}, '');
  const element = h('div', { class: 'progress' }, bar, caption);
  return {
    element,
    set(value, max, text) {
      if (max > 0) {
        bar.max = max;
        bar.value = Math.min(value, max);
      } else {
        bar.removeAttribute('value');
      }
      caption.textContent = text;
    },
  };
}

/** A job id (32 hex digits) shown short, the whole id in its title and for screen readers. */
export function shortId(id) {
  if (!id) return '';
  return h('code', { class: 'id', title: id }, id.length > 12 ? `${id.slice(0, 12)}…` : id);
}
