// Lists of requests (a customer's requests, an agent's queue): the filters apply as they change.
// Progressive enhancement: without JavaScript the GET form <form data-live-filters> is applied with
// its button. With it, a changed select or checkbox (or, 300 ms after the last keystroke, the search
// box) fetches the very URL the form would open, takes the results region [data-live-results] and the
// count [data-live-count] from that page, and puts the URL in the address bar (history.replaceState),
// so that it can be shared, bookmarked and reloaded. Focus stays where it is; the count is announced
// by its role="status". Sorting and paging links in the region are plain links of the new URL.
// If the answer is not the list (an error, the session ended), the browser simply opens the URL.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-filters]");
  var region = document.querySelector("[data-live-results]");
  if (!form || !region || !window.fetch || !window.DOMParser || !window.URLSearchParams || !window.FormData
      || !window.AbortController || !(window.history && history.replaceState)) return;
  var count = document.querySelector("[data-live-count]");
  var controller = null, timer = null, last = query();

  function query() { return new URLSearchParams(new FormData(form)).toString(); }
  function isTyped(element) { return element.tagName === "INPUT" && /^(search|text)$/.test(element.type); }

  function announce(words) {
    if (!count) return;
    if (count.textContent.trim() === words.trim()) {
      // The same words again: empty the live region first, so that they are read out again.
      count.textContent = "";
      setTimeout(function () { count.textContent = words; }, 100);
    } else {
      count.textContent = words;
    }
  }

  function swap(doc, url) {
    var fresh = doc.querySelector("[data-live-results]");
    var before = location.pathname + location.search;
    region.innerHTML = fresh.innerHTML;
    history.replaceState(history.state, "", url.href);
    var after = location.pathname + location.search;
    // Forms that come back here afterwards (the language switcher) come back to the filtered list.
    Array.prototype.forEach.call(document.querySelectorAll("input[type=hidden][name=next]"), function (next) {
      if (!region.contains(next) && next.value === before) next.value = after;
    });
    var freshCount = doc.querySelector("[data-live-count]");
    if (freshCount) announce(freshCount.textContent);
  }

  function update(force) {
    var q = query();
    if (q === last && !force) return;
    last = q;
    var url = new URL(form.action, location.href);
    url.search = q;
    if (controller) controller.abort();  // a newer choice wins over an answer still on its way
    var mine = controller = new AbortController();
    region.setAttribute("aria-busy", "true");
    fetch(url.href, {credentials: "same-origin", headers: {"Accept": "text/html"}, signal: mine.signal})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (mine !== controller) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.querySelector("[data-live-results]")) throw new Error("not the list");
        swap(doc, url);
        region.removeAttribute("aria-busy");
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        window.location.assign(url.href);  // what the form would have done without JavaScript
      });
  }

  form.addEventListener("change", function (event) {
    if (isTyped(event.target)) return;  // typing is handled below, debounced
    clearTimeout(timer);
    update(false);
  });
  form.addEventListener("input", function (event) {
    if (!isTyped(event.target)) return;
    clearTimeout(timer);
    timer = setTimeout(function () { update(false); }, 300);
  });
  form.addEventListener("submit", function (event) {  // Enter in the search box, or "Apply filters"
    event.preventDefault();
    clearTimeout(timer);
    update(true);
  });

  // A reload may give the controls back their earlier values (the browser's form restoration)
  // while the list shows the URL's: bring the list in line with what the controls show.
  function changedSinceLoad() {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT" && el.multiple) {
        return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (el.tagName === "SELECT") {  // without a `selected` option, the first one is the default
        var initial = 0;
        Array.prototype.forEach.call(el.options, function (o, i) { if (o.defaultSelected) initial = i; });
        return el.options.length > 0 && el.selectedIndex !== initial;
      }
      return el.tagName === "INPUT" && el.type !== "hidden" && el.value !== el.defaultValue;
    });
  }
  if (changedSinceLoad()) update(true);
})();
