// While a customer types the summary of a new request, suggest help articles that may answer it.
// Progressive enhancement: without JavaScript the form works exactly the same, just without hints.
(function () {
  "use strict";
  var box = document.getElementById("help-suggestions");
  var input = document.getElementById("field_summary");
  if (!box || !input || !window.fetch) return;
  var list = box.querySelector("ul"), timer = null, last = "", controller = null;
  function render(articles) {
    list.textContent = "";
    articles.forEach(function (a) {
      var li = document.createElement("li"), link = document.createElement("a");
      link.href = a.url;               // same tab: the customer comes back with the browser's Back
      link.innerHTML = a.title_html;   // escaped by the server, only <mark> added
      li.appendChild(link);
      if (a.snippet_html) {
        var p = document.createElement("p");
        p.className = "form-text";
        p.innerHTML = a.snippet_html;
        li.appendChild(p);
      }
      list.appendChild(li);
    });
    box.hidden = articles.length === 0;
  }
  function lookup() {
    var q = input.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < 3) { render([]); return; }
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var url = box.getAttribute("data-url") + (box.getAttribute("data-url").indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(q);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, signal: controller ? controller.signal : undefined})
      .then(function (r) { return r.ok ? r.json() : {articles: []}; })
      .then(function (data) { render(data.articles || []); })
      .catch(function () { /* a failed lookup just shows nothing */ });
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 300); });
  if (input.value) lookup();
})();
