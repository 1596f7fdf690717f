// Photo pickers (templates/marketplace/_photos.html): the camera and the album add to one list of at most
// data-max photos, previewed before sending; the form is then sent with a progress bar. Without script the
// inputs are sent as they are.
(function () {
  "use strict";
  function setUp(field) {
    var form = field.closest("form");
    var name = field.getAttribute("data-photo-field");
    var max = parseInt(field.getAttribute("data-max"), 10) || 9;
    var previews = field.querySelector("[data-photo-previews]");
    var limit = field.querySelector("[data-photo-limit]");
    var progress = field.querySelector("[data-photo-progress]");
    var kept = [];

    function render() {
      previews.textContent = "";
      kept.forEach(function (file, index) {
        var item = document.createElement("li");
        var image = document.createElement("img");
        image.alt = file.name;
        image.width = 72;
        image.height = 72;
        var reader = new FileReader();
        reader.onload = function () { image.src = reader.result; };  // a data: URL (the policy allows no blob:)
        reader.readAsDataURL(file);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "photo-remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", "remove");
        remove.addEventListener("click", function () { kept.splice(index, 1); render(); });
        item.appendChild(image);
        item.appendChild(remove);
        previews.appendChild(item);
      });
      limit.hidden = true;
    }

    field.querySelectorAll("[data-photo-input]").forEach(function (input) {
      input.addEventListener("change", function () {
        var dropped = false;
        Array.prototype.forEach.call(input.files, function (file) {
          if (kept.length < max) kept.push(file); else dropped = true;
        });
        input.value = "";  // the list above is what is sent
        render();
        limit.hidden = !dropped;
      });
    });

    form.addEventListener("submit", function (event) {
      if (!kept.length || !window.FormData || !window.XMLHttpRequest) return;  // nothing to upload: as usual
      event.preventDefault();
      var data = new FormData(form);
      data.delete(name);
      kept.forEach(function (file) { data.append(name, file, file.name); });
      var request = new XMLHttpRequest();
      request.open(form.method || "POST", form.action);
      progress.hidden = false;
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
      });
      request.addEventListener("load", function () {
        // the page the server answered (after its redirect: the report, or the form again with its message),
        // shown as it came, so a message flashed for it is not lost
        if (request.responseURL) window.history.replaceState(null, "", request.responseURL);
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () { progress.hidden = true; form.submit(); });
      var buttons = form.querySelectorAll("button[type=submit]");
      buttons.forEach(function (b) { b.disabled = true; });
      request.send(data);
    });
  }
  document.querySelectorAll("[data-photo-field]").forEach(setUp);
})();
