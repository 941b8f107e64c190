// Attachments: drop files on a file input's zone (or choose them as before), see them listed with
// their size, take one out again before sending. Progressive enhancement: the native
// <input type="file" data-file-drop> stays the form control and keeps its label; without JavaScript,
// or in a browser that cannot set input.files (no DataTransfer constructor), the form sends what the
// input holds, as it always did. The server checks every file again (app/tickets/services.py).
//
// Every word shown comes from the page (macros/file_drop.html renders them through gettext into
// [data-file-drop-text]), with "{name}" and "{extension}" left for this script to fill in.
(function () {
  "use strict";
  var text = document.querySelector("[data-file-drop-text]");
  var inputs = document.querySelectorAll("input[type=file][data-file-drop]");
  if (!text || !inputs.length || !window.FileList) return;
  try {
    if (!new window.DataTransfer().items) return;
  } catch (error) {
    return;
  }

  function word(name) { return text.getAttribute("data-" + name) || ""; }
  function fill(template, values) {
    Object.keys(values).forEach(function (key) { template = template.split("{" + key + "}").join(values[key]); });
    return template;
  }
  var counts = JSON.parse(word("counts") || "[]");
  var maxBytes = parseInt(word("max-bytes"), 10) || 0;
  var maxFiles = parseInt(word("max-files"), 10) || 0;
  var blocked = word("blocked-extensions").split(" ").filter(Boolean);
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined, {maximumFractionDigits: 1});

  // The same units and rounding as the server's `filesize` filter, so the list reads as the request will.
  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return number.format(Math.round(bytes / 102.4) / 10) + " kB";
    return number.format(Math.round(bytes / 104857.6) / 10) + " MB";
  }
  function selectedText(n) { return counts[Math.min(n, counts.length - 1)] || String(n); }
  function problemWith(file) {
    var dot = file.name.lastIndexOf("."), extension = dot > -1 ? file.name.slice(dot + 1).toLowerCase() : "";
    if (extension && blocked.indexOf(extension) !== -1) return fill(word("blocked"), {extension: extension});
    if (maxBytes && file.size > maxBytes) return fill(word("too-large"), {name: file.name});
    if (file.size === 0) return fill(word("empty"), {name: file.name});
    return "";
  }
  function sameFile(a, b) { return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified; }

  function enhance(input, index) {
    var multiple = input.multiple, selected = Array.prototype.slice.call(input.files || []);
    var base = (input.id || "file-drop-" + index);
    var zone = document.createElement("div"), hint = document.createElement("p");
    var list = document.createElement("ul"), status = document.createElement("p"), error = null;
    zone.setAttribute("data-file-drop-zone", "");
    hint.setAttribute("data-file-drop-hint", "");
    hint.id = base + "-drop-hint";
    hint.textContent = word("instructions");
    list.setAttribute("data-file-drop-list", "");
    status.setAttribute("data-file-drop-status", "");
    status.setAttribute("role", "status");
    status.id = base + "-drop-status";
    input.parentNode.insertBefore(zone, input);
    zone.appendChild(hint);
    zone.appendChild(input);
    zone.appendChild(list);
    zone.appendChild(status);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described = described.concat([hint.id, status.id]);
    input.setAttribute("aria-describedby", described.join(" "));
    var invalidBefore = input.getAttribute("aria-invalid");

    // A refused file: a new alert (announced as it appears), linked to the input while it is shown.
    function showProblems(problems) {
      if (error) { zone.removeChild(error); error = null; }
      if (problems.length) {
        error = document.createElement("p");
        error.setAttribute("data-file-drop-error", "");
        error.setAttribute("role", "alert");
        error.id = base + "-drop-error";
        error.textContent = problems.join(" ");
        zone.appendChild(error);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", described.concat([error.id]).join(" "));
        return;
      }
      input.setAttribute("aria-describedby", described.join(" "));
      if (invalidBefore === null) input.removeAttribute("aria-invalid");
      else input.setAttribute("aria-invalid", invalidBefore);
    }
    function sync() {
      var transfer = new window.DataTransfer();
      selected.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    }
    function render() {
      list.textContent = "";
      selected.forEach(function (file, position) {
        var item = document.createElement("li"), name = document.createElement("span"), bytes = document.createElement("span");
        var remove = document.createElement("button");
        name.setAttribute("data-file-name", "");
        name.textContent = file.name;
        bytes.setAttribute("data-file-size", "");
        bytes.textContent = "(" + size(file.size) + ")";
        remove.type = "button";
        remove.setAttribute("data-file-remove", "");
        remove.textContent = word("remove");
        remove.setAttribute("aria-label", fill(word("remove-name"), {name: file.name}));
        remove.addEventListener("click", function () { removeAt(position); });
        item.appendChild(name);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(bytes);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(remove);
        list.appendChild(item);
      });
      list.hidden = selected.length === 0;
    }
    function add(files) {
      var problems = [], tooMany = false, replaced = false, next = selected.slice();
      Array.prototype.forEach.call(files, function (file) {
        var problem = problemWith(file);
        if (problem) { problems.push(problem); return; }
        if (!multiple) { if (!replaced) { next = [file]; replaced = true; } return; }  // one file: the new one
        if (next.some(function (other) { return sameFile(other, file); })) return;
        if (maxFiles && next.length >= maxFiles) { tooMany = true; return; }
        next.push(file);
      });
      if (tooMany) problems.push(word("too-many"));
      selected = next;
      sync();
      render();
      showProblems(problems);
      status.textContent = selectedText(selected.length);
    }
    function removeAt(position) {
      var removed = selected.splice(position, 1)[0];
      sync();
      render();
      showProblems([]);
      status.textContent = fill(word("removed"), {name: removed.name}) + " " + selectedText(selected.length);
      var buttons = list.querySelectorAll("[data-file-remove]");
      (buttons[Math.min(position, buttons.length - 1)] || input).focus();
    }

    // The native chooser replaces the input's files; with `multiple` they add up, as drops do.
    input.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(input.files || []);
      sync();  // back to what was selected (a cancelled chooser may have emptied the input)
      add(chosen);
    });
    // A click on the zone itself (or its hint) opens the chooser, as one on the input or its label does.
    zone.addEventListener("click", function (event) {
      if (event.target === zone || event.target === hint) input.click();
    });
    function carriesFiles(event) {
      var types = event.dataTransfer && event.dataTransfer.types;
      return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
    }
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        zone.setAttribute("data-dragging", "");
      });
    });
    zone.addEventListener("dragleave", function (event) {
      if (!event.relatedTarget || !zone.contains(event.relatedTarget)) zone.removeAttribute("data-dragging");
    });
    zone.addEventListener("drop", function (event) {
      zone.removeAttribute("data-dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      add(event.dataTransfer.files);
    });
    if (input.form) {
      input.form.addEventListener("reset", function () {
        selected = [];
        render();
        showProblems([]);
        status.textContent = "";
      });
    }
    render();
  }

  Array.prototype.forEach.call(inputs, enhance);
})();
