/* Evidence uploads, enhanced: each file goes in its own request (two at a time) with a progress
 * bar, and the server's HTML for the new row (or the refusal) is put straight into the page.
 * Without this script the same form posts all files at once and the page reloads with messages. */
(function () {
  "use strict";

  var PARALLEL = 2;
  var nextId = 0;

  function init(form) {
    var input = form.querySelector('input[type="file"][name="files"]');
    var zone = form.querySelector("[data-drop-zone]");
    var list = document.getElementById("evidence-files");
    var empty = document.getElementById("evidence-files-empty");
    var progressList = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var keepLocation = form.querySelector('input[name="keep_location"]');
    var maxSize = Number(form.dataset.maxSize);
    var maxSizeLabel = form.dataset.maxSizeLabel;
    var queue = [];
    var active = 0;
    var counts = { added: 0, failed: 0 };

    function announce(text) {
      // Clear first so the same words are announced again.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }

    function addProgress(file) {
      var id = "upload-" + (nextId += 1);
      var item = document.createElement("li");
      item.className = "mb-2";
      var label = document.createElement("label");
      label.className = "d-block small text-break";
      label.htmlFor = id;
      label.textContent = file.name;
      var row = document.createElement("div");
      row.className = "d-flex align-items-center gap-2";
      var bar = document.createElement("progress");
      bar.id = id;
      bar.max = 100;
      bar.value = 0;
      bar.textContent = "0%";
      var percent = document.createElement("span");
      percent.className = "small";
      percent.textContent = "Waiting";
      row.append(bar, percent);
      var result = document.createElement("div");
      result.className = "small";
      item.append(label, row, result);
      progressList.append(item);
      return { item: item, bar: bar, percent: percent, result: result };
    }

    function setPercent(ui, value) {
      ui.bar.value = value;
      ui.bar.textContent = value + "%";
      ui.percent.textContent = value + "%";
    }

    function fail(ui, name, html, text) {
      counts.failed += 1;
      ui.percent.textContent = "Not added";
      if (html) {
        ui.result.innerHTML = html; // the server's own escaped fragment, with role="alert"
      } else {
        var alert = document.createElement("div");
        alert.className = "alert alert-danger py-2 px-3 mt-1 mb-0";
        alert.setAttribute("role", "alert");
        var strong = document.createElement("strong");
        strong.textContent = "Not added. ";
        alert.append(strong, "“" + name + "”: " + text);
        ui.result.append(alert);
      }
    }

    function succeed(ui, name, html) {
      counts.added += 1;
      setPercent(ui, 100);
      ui.percent.textContent = "Uploaded";
      var template = document.createElement("template");
      template.innerHTML = html.trim();
      list.append(template.content);
      if (empty) { empty.hidden = true; }
      announce("“" + name + "” uploaded.");
    }

    function statusText(xhr) {
      if (xhr.status === 0) { return "the connection was lost. Check your connection and try again."; }
      if (xhr.status === 403) { return "you cannot add files to this evidence (perhaps you were signed out)."; }
      if (xhr.status === 404) { return "this evidence could not be found."; }
      if (xhr.status === 413) { return "it is too large: each file can be at most " + maxSizeLabel + "."; }
      return "something went wrong on the server (" + xhr.status + "). Try again.";
    }

    function send(job) {
      active += 1;
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("csrfmiddlewaretoken", token);
      data.append("files", job.file, job.file.name);
      if (keepLocation && keepLocation.checked) data.append("keep_location", "on");
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Upload-Fragment", "1");
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          // Hold at 99% until the server has checked and stored the file.
          setPercent(job.ui, Math.min(99, Math.floor((event.loaded / event.total) * 100)));
        }
      });
      xhr.addEventListener("loadend", function () {
        if (xhr.status === 200) {
          succeed(job.ui, job.file.name, xhr.responseText);
        } else if (xhr.status === 400 && xhr.responseText) {
          fail(job.ui, job.file.name, xhr.responseText);
        } else {
          fail(job.ui, job.file.name, null, statusText(xhr));
        }
        active -= 1;
        pump();
      });
      job.ui.percent.textContent = "0%";
      xhr.send(data);
    }

    function pump() {
      while (active < PARALLEL && queue.length) {
        send(queue.shift());
      }
      if (!active && !queue.length && counts.added + counts.failed) {
        var words = counts.added + " uploaded";
        if (counts.failed) { words += ", " + counts.failed + " not added"; }
        announce("Uploads finished: " + words + ".");
        counts = { added: 0, failed: 0 };
      }
    }

    function enqueue(files) {
      Array.prototype.forEach.call(files, function (file) {
        var ui = addProgress(file);
        if (file.size > maxSize) {
          // Refused here so a large file is not sent only to be refused by the server.
          fail(ui, file.name, null, "it is too large: each file can be at most " + maxSizeLabel + ".");
          return;
        }
        queue.push({ file: file, ui: ui });
      });
      pump();
    }

    form.addEventListener("submit", function (event) {
      if (!input.files.length) { return; } // the server explains that a file is needed
      event.preventDefault();
      enqueue(input.files);
      form.reset();
    });

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("border-primary", "bg-body-secondary");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.remove("border-primary", "bg-body-secondary");
      });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        enqueue(event.dataTransfer.files);
      }
    });
  }

  document.querySelectorAll("form[data-upload-form]").forEach(init);
})();
