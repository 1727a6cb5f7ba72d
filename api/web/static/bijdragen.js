// Progressive enhancement of the contribution form: while the title is typed, the existing
// records of the chosen kind that look most like it ("Lijkt dit op een bestaande …?"), from the
// search API. Without JavaScript the form works the same; curators see the same hints.
(function () {
  "use strict";
  var form = document.getElementById("bijdrage-formulier");
  var title = document.getElementById("b-title");
  var box = document.getElementById("b-duplicates");
  if (!form || !title || !box) { return; }
  var names = { lesson: "les", threshold: "drempel", measure: "maatregel", breakthrough: "doorbraak" };
  var timer = null;
  var asked = "";
  function kind() {
    var checked = form.querySelector("input[name=type]:checked");
    return checked ? checked.value : "threshold";
  }
  function show(hits, type) {
    box.textContent = "";
    if (!hits.length) { return; }
    var p = document.createElement("p");
    p.textContent = "Lijkt dit op een bestaande " + (names[type] || "bijdrage") + "?";
    box.appendChild(p);
    var ul = document.createElement("ul");
    hits.forEach(function (hit) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/id/" + encodeURIComponent(hit.type) + "/" + encodeURIComponent(hit.id);
      a.textContent = hit.title;  // text, never HTML
      a.target = "_blank";
      a.rel = "noopener";
      li.appendChild(a);
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }
  function ask() {
    var q = title.value.trim();
    var type = kind();
    if (q.length < 8 || q + "|" + type === asked) { return; }
    asked = q + "|" + type;
    fetch("/api/search?" + new URLSearchParams({ q: q, type: type, k: "3" }))
      .then(function (r) { return r.ok ? r.json() : { hits: [] }; })
      .then(function (body) { if (asked === q + "|" + type) { show(body.hits || [], type); } })
      .catch(function () { /* the hints are a help, not a condition */ });
  }
  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  });
  form.querySelectorAll("input[name=type]").forEach(function (r) {
    r.addEventListener("change", ask);
  });
}());
