// The board's filters submit themselves on change; without script the "Show" button does the same.
document.documentElement.classList.add("js");
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (!form || !form.hasAttribute("data-autosubmit")) return;
  // a new street or community makes the levels below it meaningless
  var order = ["street", "community", "grid"];
  var level = order.indexOf(event.target.name);
  for (var i = level + 1; level >= 0 && i < order.length; i++) {
    if (form.elements[order[i]]) form.elements[order[i]].value = "";
  }
  form.submit();
});
