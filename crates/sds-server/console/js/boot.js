// Runs before the modules: whatever fails later (a module that does not
// load, an exception, a rejected promise) is shown in the page, never as a
// blank screen. Classic script on purpose: it must run even where a module
// fails to parse.
(function () {
  'use strict';
  function show(text) {
    var box = document.getElementById('errors');
    if (!box) { return; }
    var item = document.createElement('p');
    item.className = 'error';
    item.textContent = text;
    box.appendChild(item);
  }
  window.sdsShowError = show;
  window.addEventListener('error', function (event) {
    var where = event.filename ? ' (' + event.filename.replace(/\?.*$/, '') + ':' + event.lineno + ')' : '';
    show('Unexpected error: ' + (event.message || 'a file failed to load') + where);
  }, true);
  window.addEventListener('unhandledrejection', function (event) {
    var reason = event.reason;
    show('Unexpected error: ' + (reason && reason.message ? reason.message : String(reason)));
  });
  window.addEventListener('DOMContentLoaded', function () {
    // A module that never starts leaves a message instead of "Loading…".
    setTimeout(function () {
      if (!window.sdsStarted) {
        show('The console did not start: its scripts failed to load. Reload the page; the REST API still works.');
      }
    }, 8000);
  });
}());
