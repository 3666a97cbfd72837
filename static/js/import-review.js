// The review page: a "from lines 12–14" link marks every line of the range in the source pane, not
// only the first (which :target already highlights without JavaScript).
(function () {
  "use strict";
  function mark(first, last) {
    document.querySelectorAll(".source-lines li.in-range").forEach(function (li) { li.classList.remove("in-range"); });
    for (var n = first; n <= last; n++) {
      var li = document.getElementById("L" + n);
      if (li) { li.classList.add("in-range"); }
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-first]");
    if (link) { mark(parseInt(link.dataset.first, 10), parseInt(link.dataset.last, 10)); }
  });
})();
