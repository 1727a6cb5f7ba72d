// Progressive enhancement of the werkboek page: a print button, and every folded list of
// lessons unfolds for printing (and folds back after), so the printed book is complete.
(function () {
  "use strict";
  var folded = [];
  window.addEventListener("beforeprint", function () {
    folded = Array.prototype.filter.call(document.querySelectorAll("details.wb-lessons"),
      function (d) { return !d.open; });
    folded.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    folded.forEach(function (d) { d.open = false; });
    folded = [];
  });
  var print = document.querySelector(".print-link");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
}());
