// Progressive enhancement of the search page: a filter change submits the form at once
// (without JavaScript the "Filters toepassen" button does the same).
(function () {
  "use strict";
  var form = document.getElementById("zoekformulier");
  if (!form) { return; }
  form.querySelectorAll(".facet input[type=checkbox]").forEach(function (box) {
    box.addEventListener("change", function () { form.requestSubmit(); });
  });
  document.documentElement.classList.add("js");
}());
