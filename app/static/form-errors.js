// A form sent back with errors: put the keyboard focus on the first field to correct, so that
// a screen reader announces it with its message (aria-describedby, app/templates/_forms.html).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var first = document.querySelector("main .is-invalid");
  if (first && typeof first.focus === "function") first.focus();
});
