// Agents: find a published help article and insert a Markdown link to it into the comment box.
// Without JavaScript the helper stays hidden; agents can paste an article's address themselves.
(function () {
  "use strict";
  var helper = document.getElementById("article-link-helper");
  if (!helper || !window.fetch) return;
  var target = document.getElementById(helper.getAttribute("data-target"));
  var input = helper.querySelector("input"), list = helper.querySelector("ul"), timer = null;
  helper.hidden = false;
  function insert(text) {
    var start = target.selectionStart || target.value.length, end = target.selectionEnd || start;
    target.value = target.value.slice(0, start) + text + target.value.slice(end);
    target.focus();
    target.selectionStart = target.selectionEnd = start + text.length;
  }
  function lookup() {
    var q = input.value.trim();
    if (q.length < 3) { list.textContent = ""; return; }
    fetch(helper.getAttribute("data-url") + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {articles: []}; })
      .then(function (data) {
        list.textContent = "";
        (data.articles || []).forEach(function (a) {
          var li = document.createElement("li"), button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-link p-0 align-baseline";
          button.textContent = a.title;
          button.addEventListener("click", function () { insert(a.markdown); });
          li.appendChild(button);
          list.appendChild(li);
        });
      }).catch(function () {});
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 300); });
  input.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); lookup(); } });
})();
