// The call-up's live roll: every few seconds it reads roll.json and updates the counts and the lists in place
// (no page reload; a task being typed is kept). Without script the page is a plain roll, current when loaded.
// Also: forms with data-confirm ask before they submit.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  var roll = document.querySelector("[data-roll-url]");
  if (!roll) return;
  var url = roll.getAttribute("data-roll-url");
  var seconds = Math.max(2, parseInt(roll.getAttribute("data-roll-seconds"), 10) || 4);
  var template = roll.querySelector("template[data-roll-row]");

  function fill(text, time) {
    return (text || "{time}").replace("{time}", time);
  }

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function whenText(person) {
    if (person.arrived_text) {
      return fill(roll.getAttribute("data-text-arrived"), person.arrived_text) + (person.via_text ? " · " + person.via_text : "");
    }
    if (person.answered_text) return fill(roll.getAttribute("data-text-answered"), person.answered_text);
    return "";
  }

  function newRow(person) {
    var row = template.content.firstElementChild.cloneNode(true);
    row.setAttribute("data-member", person.member_id);
    row.querySelectorAll("input[name=member_id]").forEach(function (input) { input.value = person.member_id; });
    var task = row.querySelector("input[name=task]");
    var label = row.querySelector("label");
    if (task) task.id = "task-" + person.member_id;
    if (label) label.htmlFor = "task-" + person.member_id;
    return row;
  }

  function update(person) {
    var row = roll.querySelector('.roll-person[data-member="' + person.member_id + '"]');
    if (!row) row = newRow(person);
    setText(row.querySelector('[data-field="name"]'), person.name);
    setText(row.querySelector('[data-field="unit"]'), person.unit || "");
    setText(row.querySelector('[data-field="when"]'), whenText(person));
    setText(row.querySelector('[data-field="task"]'), person.task || "");
    var arrive = row.querySelector(".roll-arrive");
    var assign = row.querySelector(".roll-task");
    if (arrive) arrive.hidden = !!person.arrived_at;
    if (assign) assign.hidden = !person.arrived_at;
    var list = roll.querySelector('.roll-list[data-group="' + person.group + '"]');
    if (list && row.parentNode !== list) {
      var typing = row.contains(document.activeElement);
      list.appendChild(row);
      if (typing) document.activeElement.focus();
    }
    return row;
  }

  function render(data) {
    var seen = {};
    data.people.forEach(function (person) { seen[person.member_id] = update(person); });
    roll.querySelectorAll(".roll-person[data-member]").forEach(function (row) {
      if (!seen[row.getAttribute("data-member")]) row.remove();
    });
    Object.keys(data.counts).forEach(function (key) {
      setText(roll.querySelector('[data-count="' + key + '"]'), String(data.counts[key]));
    });
    setText(roll.querySelector('[data-count="needed"]'), String(data.needed));
    Object.keys(data.figures || {}).forEach(function (key) {
      setText(roll.querySelector('[data-figure="' + key + '"]'), data.figures[key]);
    });
    roll.querySelectorAll(".roll-list[data-group]").forEach(function (list) {
      setText(roll.querySelector('[data-group-count="' + list.getAttribute("data-group") + '"]'),
        String(list.querySelectorAll(".roll-person").length));
    });
    setText(document.querySelector("[data-roll-status]"), data.status_text);
    if (data.status !== "open") {  // closed or cancelled meanwhile: nothing more to mark, assign or close
      document.querySelectorAll(".roll-person form, .close-form, .answer-buttons").forEach(function (form) {
        form.hidden = true;
      });
    }
    var now = new Date();
    var time = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2) + ":" + ("0" + now.getSeconds()).slice(-2);
    setText(roll.querySelector("[data-roll-updated]"), fill(roll.getAttribute("data-text-updated"), time));
    roll.setAttribute("data-roll-loaded", String(Date.now()));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) render(data);
        return !data || data.status === "open";  // a closed or cancelled roll changes no more
      })
      .catch(function () { return true; /* offline for a moment: the next round tries again */ })
      .then(function (again) { if (again) window.setTimeout(poll, seconds * 1000); });
  }

  window.setTimeout(poll, seconds * 1000);
})();
