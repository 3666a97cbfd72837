// Mapping page: show each criterion's account box only once it is ticked. Without this script
// every box is shown, and the server ignores accounts for criteria that are not ticked.
(function () {
  "use strict";
  function sync(checkbox) {
    var box = document.getElementById(checkbox.id.replace(/^claim-/, "account-box-"));
    if (!box) return;
    box.hidden = !checkbox.checked;
    if (checkbox.checked && checkbox.dataset.touched) {
      var area = box.querySelector("textarea");
      if (area && !area.value) area.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=checkbox][id^='claim-']").forEach(function (checkbox) {
      sync(checkbox);
      checkbox.addEventListener("change", function () {
        checkbox.dataset.touched = "1";
        sync(checkbox);
      });
    });
  });
})();
