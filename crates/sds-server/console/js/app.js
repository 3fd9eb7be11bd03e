// The console's entry: sign-in, the hash router (`#/sources`,
// `#/source/{accessId}/{name}`, `#/jobs`, `#/upload`) and the page frame.
// The hash never holds the key.

import { ApiError, checkKey, currentKey, forgetKey, storeKey } from './api.js';
import { announce, clearErrors, field, fill, h, showError } from './dom.js';
import { jobsView } from './jobs.js';
import { sourceView } from './source.js';
import { sourcesView } from './sources.js';
import { offerFile, uploadView } from './upload.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let stopView = () => {};
let carriedNotice = null;

/** Goes to `hash`, optionally showing a notice on the next page. */
function navigate(hash, notice) {
  carriedNotice = notice || null;
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function signInView(message) {
  nav.hidden = true;
  const keyInput = h('input', { type: 'password', id: 'signin-key', name: 'key', autocomplete: 'off', required: true, spellcheck: 'false' });
  const feedback = h('div', { id: 'signin-feedback', 'aria-live': 'assertive' }, message ? h('p', { class: 'error-box' }, message) : null);
  const submit = h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in');
  const form = h('form', {
    class: 'card signin', id: 'signin-form', method: 'post',
    onsubmit: async (event) => {
      event.preventDefault();
      const key = keyInput.value.trim();
      if (!key) return;
      submit.disabled = true;
      fill(feedback, h('p', {}, 'Checking the key…'));
      try {
        await checkKey(key);
        storeKey(key);
        keyInput.value = '';
        fill(feedback);
        route();
      } catch (error) {
        fill(feedback, h('p', { class: 'error-box', id: 'signin-error' }, error.message));
        keyInput.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Use the master key of your account to manage data sources and jobs; a query key can list and query. '
    + 'The key stays in this browser tab only (sessionStorage) and is sent to this server\'s REST API, as SDS clients send it.'),
  field('Key', keyInput),
  submit,
  feedback);
  fill(main, form);
  keyInput.focus();
}

const VIEWS = {
  sources: () => sourcesView(main),
  jobs: () => jobsView(main),
  upload: () => uploadView(main),
};

function route() {
  stopView();
  stopView = () => {};
  clearErrors();
  if (!currentKey()) {
    signInView();
    return;
  }
  nav.hidden = false;
  const hash = window.location.hash.startsWith('#/') ? window.location.hash.slice(2) : 'sources';
  const [view, ...rest] = hash.split('/');
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.view === view || (view === 'source' && link.dataset.view === 'sources')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    if (view === 'source' && rest.length >= 2) {
      const [accessId, name] = rest.map(decodeURIComponent);
      stopView = sourceView(main, accessId, name, navigate);
      document.title = `${name} — sds console`;
    } else {
      stopView = (VIEWS[view] || VIEWS.sources)();
      document.title = `${view[0].toUpperCase()}${view.slice(1)} — sds console`;
    }
  } catch (error) {
    fill(main, h('p', { class: 'error-box' }, `This page failed: ${error.message}`));
  }
  if (carriedNotice) {
    main.prepend(h('p', { class: 'notice', id: 'carried-notice' }, carriedNotice));
    announce(carriedNotice);
    carriedNotice = null;
  }
  const heading = main.querySelector('h1');
  if (heading && document.activeElement !== document.body && !main.contains(document.activeElement)) heading.focus();
}

// A refused key on any call sends the user back to sign in, saying why.
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof ApiError && event.reason.isAuth) {
    forgetKey();
    signInView(event.reason.message);
  }
});

document.getElementById('sign-out').addEventListener('click', () => {
  forgetKey();
  announce('Signed out');
  route();
});

document.getElementById('skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

// A file dropped anywhere goes to the upload page (which takes its own drops).
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files?.[0];
  if (file && currentKey()) {
    offerFile(file);
    navigate('#/upload');
  }
});

window.addEventListener('hashchange', route);
window.sdsStarted = true;
try {
  route();
} catch (error) {
  showError(error);
}
