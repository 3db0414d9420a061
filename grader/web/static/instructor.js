/* Instructor pages: enhancements only; every page works without this file.
 *
 * - times shown (and entered) in the reader's own time zone instead of UTC;
 * - the exercise editor validates as you type (errors at their line) and previews a seed;
 * - a regrade's progress updates itself;
 * - destructive buttons ask first.
 * JSON POSTs carry the CSRF token from <meta name="csrf-token"> in X-CSRFToken.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok && !("errors" in data)) {
          throw new Error(data.detail || data.title || ("HTTP " + response.status));
        }
        return data;
      });
    });
  }

  function typeset(element) {
    if (typeof window.renderMathInElement === "function") {
      window.renderMathInElement(element, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
          { left: "$", right: "$", display: false }
        ],
        throwOnError: false
      });
    }
  }

  /* ---------------------------------------------------------------- time zones */

  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function localTimes() {
    var format;
    try {
      format = new Intl.DateTimeFormat(undefined, {
        weekday: "short", day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    } catch (e) {
      return;
    }
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) {
        return;
      }
      el.title = el.textContent.trim();
      el.textContent = format.format(when);
    });
  }

  function zonedInputs() {
    if (!zone) {
      return;
    }
    document.querySelectorAll("form").forEach(function (form) {
      var tz = form.querySelector("input[data-tz]");
      if (!tz) {
        return;
      }
      tz.value = zone;
      form.querySelectorAll("input[data-utc]").forEach(function (input) {
        if (!input.value) {
          return;
        }
        var when = new Date(input.value + ":00Z");
        if (isNaN(when.getTime())) {
          return;
        }
        input.value = when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" +
          pad(when.getDate()) + "T" + pad(when.getHours()) + ":" + pad(when.getMinutes());
      });
      form.querySelectorAll("[data-tz-label]").forEach(function (label) {
        label.textContent = "(" + zone + ")";
      });
      form.querySelectorAll("[data-tz-note]").forEach(function (note) {
        note.textContent = "Times are in your time zone, " + zone + ".";
      });
    });
  }

  /* ---------------------------------------------------------------- confirmations */

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  /* ---------------------------------------------------------------- editor */

  function lineStart(text, line) {
    var index = 0;
    for (var i = 1; i < line; i++) {
      var next = text.indexOf("\n", index);
      if (next < 0) {
        return text.length;
      }
      index = next + 1;
    }
    return index;
  }

  function goToLine(textarea, line) {
    var start = lineStart(textarea.value, line);
    var end = textarea.value.indexOf("\n", start);
    textarea.focus();
    textarea.setSelectionRange(start, end < 0 ? textarea.value.length : end);
    var lineHeight = parseFloat(window.getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (line - 4) * lineHeight);
  }

  function editor() {
    var form = document.getElementById("editor-form");
    var textarea = document.getElementById("source");
    if (!form || !textarea) {
      return;
    }
    var gutter = form.querySelector("[data-gutter]");
    var status = form.querySelector("[data-status]");
    var pane = document.getElementById("preview-pane");
    var seed = document.getElementById("seed");
    var errorLines = {};
    var timer = null;
    var sequence = 0;

    function drawGutter() {
      var count = textarea.value.split("\n").length;
      var html = [];
      for (var i = 1; i <= count; i++) {
        html.push(errorLines[i] ? '<span class="err">' + i + "</span>" : "<span>" + i + "</span>");
      }
      gutter.innerHTML = html.join("");
      gutter.scrollTop = textarea.scrollTop;
    }

    function showErrors(errors) {
      errorLines = {};
      status.textContent = "";
      var head = document.createElement("p");
      if (!errors.length) {
        head.className = "status-ok";
        head.textContent = "No problems found.";
        status.appendChild(head);
        drawGutter();
        return;
      }
      head.className = "status-bad";
      var strong = document.createElement("strong");
      strong.textContent = errors.length + (errors.length === 1 ? " problem" : " problems");
      head.appendChild(strong);
      status.appendChild(head);
      var list = document.createElement("ul");
      list.className = "spec-errors";
      errors.forEach(function (e) {
        var item = document.createElement("li");
        if (e.line) {
          errorLines[e.line] = true;
          var link = document.createElement("a");
          link.href = "#source";
          link.setAttribute("data-line", e.line);
          link.textContent = "Line " + e.line;
          item.appendChild(link);
        } else {
          var none = document.createElement("span");
          none.textContent = "No line";
          item.appendChild(none);
        }
        if (e.field) {
          item.appendChild(document.createTextNode(" · "));
          var code = document.createElement("code");
          code.textContent = e.field;
          item.appendChild(code);
        }
        item.appendChild(document.createTextNode(": " + e.message));
        list.appendChild(item);
      });
      status.appendChild(list);
      drawGutter();
    }

    function validate() {
      var mine = ++sequence;
      postJSON(form.getAttribute("data-validate-url"), { source: textarea.value })
        .then(function (data) {
          if (mine === sequence) {
            showErrors(data.errors || []);
          }
        })
        .catch(function (error) {
          status.textContent = "Could not check the text: " + error.message;
        });
    }

    function preview() {
      pane.setAttribute("aria-busy", "true");
      postJSON(form.getAttribute("data-preview-url"), { source: textarea.value, seed: seed.value })
        .then(function (data) {
          stale.hidden = true;
          pane.innerHTML = data.html;
          typeset(pane);
          if (data.errors) {
            showErrors(data.errors);
          }
        })
        .catch(function (error) {
          pane.textContent = "No preview: " + error.message;
        })
        .then(function () {
          pane.removeAttribute("aria-busy");
        });
    }

    var stale = document.createElement("p");
    stale.className = "muted stale-note";
    stale.hidden = true;
    stale.textContent = "The text changed since this preview: press Preview to update it.";
    pane.parentNode.insertBefore(stale, pane);

    textarea.addEventListener("input", function () {
      stale.hidden = false;
      drawGutter();
      window.clearTimeout(timer);
      timer = window.setTimeout(validate, 350);
    });
    textarea.addEventListener("scroll", function () {
      gutter.scrollTop = textarea.scrollTop;
    });
    status.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-line]");
      if (link) {
        event.preventDefault();
        goToLine(textarea, parseInt(link.getAttribute("data-line"), 10));
      }
    });
    form.querySelectorAll('button[name="action"][value="preview"]').forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        preview();
      });
    });
    seed.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        preview();
      }
    });
    form.querySelectorAll("[data-errors] a[data-line]").forEach(function (link) {
      errorLines[link.getAttribute("data-line")] = true;
    });
    drawGutter();
  }

  /* ---------------------------------------------------------------- regrade progress */

  function regradeProgress() {
    var box = document.querySelector("[data-job-url]");
    if (!box) {
      return;
    }
    var bar = box.querySelector("progress");
    var status = box.querySelector("[data-job-status]");
    var hint = box.querySelector("[data-no-js-refresh]");
    if (!hint) {
      return; /* already finished when the page was made */
    }
    hint.hidden = true;
    function poll() {
      fetch(box.getAttribute("data-job-url"), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (job) {
          bar.max = Math.max(job.total, 1);
          bar.value = job.progress;
          bar.textContent = job.progress + " of " + job.total;
          if (job.finished) {
            window.location.reload();
            return;
          }
          status.textContent = job.status === "running"
            ? "Running: " + job.progress + " of " + job.total + "."
            : "Waiting for a worker to start it.";
          window.setTimeout(poll, 1000);
        })
        .catch(function () {
          hint.hidden = false;
        });
    }
    window.setTimeout(poll, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    zonedInputs();
    confirmations();
    editor();
    regradeProgress();
  });
})();
