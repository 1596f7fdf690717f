// A certificate batch's details page: the progress bar follows the rendering until the batch is finished.
(function () {
  var box = document.getElementById('og-batch-progress');
  if (!box || box.dataset.finished === 'true') { return; }
  var bar = box.querySelector('.progress-bar');
  function poll() {
    fetch(box.dataset.url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        box.querySelector('[data-progress=done]').textContent = p.done;
        box.querySelector('[data-progress=total]').textContent = p.total;
        bar.style.width = (p.total ? Math.round(100 * p.done / p.total) : 100) + '%';
        bar.setAttribute('aria-valuenow', p.done);
        if (p.finished) {
          box.dataset.finished = 'true';
          bar.classList.remove('progress-bar-striped', 'progress-bar-animated');
          bar.classList.add('bg-success');
        } else {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
