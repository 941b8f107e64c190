// Show a field only when the field it depends on has one of the listed values.
// The server applies the same rule, so without JavaScript every field is simply shown.
(function () {
  "use strict";
  var blocks = document.querySelectorAll("[data-visible-field]");
  function valuesOf(name) {
    var inputs = document.getElementsByName(name), values = [];
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.tagName === "SELECT") {
        for (var j = 0; j < el.options.length; j++) { if (el.options[j].selected) values.push(el.options[j].value); }
      } else if ((el.type === "checkbox" || el.type === "radio")) {
        if (el.checked) values.push(el.type === "checkbox" ? "true" : el.value);
      } else { values.push(el.value); }
    }
    return values;
  }
  function update() {
    blocks.forEach(function (block) {
      var wanted = block.getAttribute("data-visible-in").split(" ");
      var shown = valuesOf(block.getAttribute("data-visible-field")).some(function (v) { return wanted.indexOf(v) !== -1; });
      block.hidden = !shown;
    });
  }
  blocks.forEach(function (block) {
    var inputs = document.getElementsByName(block.getAttribute("data-visible-field"));
    for (var i = 0; i < inputs.length; i++) { inputs[i].addEventListener("change", update); }
  });
  update();
})();
