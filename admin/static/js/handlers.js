// The back office's inline behaviour, bound here instead: the content security policy refuses inline event
// handlers (onclick=…) and javascript: links, so the templates mark elements with data attributes.
(function () {
  'use strict';
  // Flask-Admin's menus, tabs and pager use href="javascript:void(0)" for "go nowhere": the policy would refuse
  // (and report) running it, so the click goes nowhere here instead. Capturing, because some of Flask-Admin's
  // own handlers stop the click before it would bubble up to the document.
  document.addEventListener('click', function (event) {
    if (event.target.closest && event.target.closest('a[href^="javascript:"]')) { event.preventDefault(); }
  }, true);
  document.addEventListener('click', function (event) {
    if (!event.target.closest) { return; }
    var action = event.target.closest('[data-model-action]');
    if (action && window.modelActions) {  // a list's "With selected" action (Flask-Admin's actions.js)
      window.modelActions.execute(action.getAttribute('data-model-action'));
    }
  });
  // a form that asks before it is sent (deleting a row, rotating a secret)
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.hasAttribute('data-confirm') && !window.confirm(form.getAttribute('data-confirm'))) {
      event.preventDefault();
    }
  });
})();
