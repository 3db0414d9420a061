/* grader: typeset math, live "interpreted as" previews, and a double-submit guard.
 *
 * Everything here is an enhancement: the pages work without it (answers are plain form
 * posts). No build step, no dependencies beyond KaTeX, which we serve ourselves.
 */
(function () {
  "use strict";

  var DELAY_MS = 250;

  function typesetMath(root) {
    if (typeof window.renderMathInElement !== "function") return;
    window.renderMathInElement(root, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
        { left: "$", right: "$", display: false }
      ],
      throwOnError: false
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showPreview(region, text, data) {
    region.textContent = "";
    if (!text.trim()) return;
    if (data.ok) {
      if (data.latex) {
        var line = el("p", "preview-line");
        line.appendChild(el("span", "preview-label", "Interpreted as "));
        var math = el("span", "preview-math");
        try {
          window.katex.render(data.latex, math, { throwOnError: false });
        } catch (e) {
          math.textContent = data.text || data.latex;
        }
        line.appendChild(math);
        region.appendChild(line);
      }
      if (data.variables && data.variables.length) {
        region.appendChild(el("p", "preview-vars", "Variables: " + data.variables.join(", ")));
      }
      return;
    }
    region.appendChild(el("p", "preview-error", data.message || "Not readable yet."));
    if (typeof data.offset === "number" && data.offset >= 0) {
      var pre = el("pre", "preview-caret");
      pre.setAttribute("aria-hidden", "true");
      pre.textContent = text + "\n" + " ".repeat(Math.min(data.offset, text.length)) + "^";
      region.appendChild(pre);
      region.appendChild(
        el("p", "visually-hidden", "The problem is at character " + (data.offset + 1) + ".")
      );
    }
  }

  function attachPreview(input) {
    var region = document.getElementById("preview-" + input.dataset.attemptId + "-" + input.dataset.partId);
    if (!region) return;
    var timer = null;
    var controller = null;
    var last = null;

    function send() {
      var text = input.value;
      if (text === last) return;
      last = text;
      if (!text.trim()) {
        region.textContent = "";
        return;
      }
      if (controller) controller.abort();
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(input.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({
          attempt_id: parseInt(input.dataset.attemptId, 10),
          part_id: input.dataset.partId,
          text: text
        }),
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) {
          if (!response.ok) throw new Error("preview failed: " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (input.value === text) showPreview(region, text, data);
        })
        .catch(function (err) {
          if (err && err.name === "AbortError") return;
          region.textContent = "";
          last = null;
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(send, DELAY_MS);
    });
    if (input.value) send();
  }

  function guardDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      var button = form.querySelector('button[type="submit"]');
      if (button) {
        button.setAttribute("aria-disabled", "true");
        button.textContent = "Sending…";
      }
    });
  }

  /* Nothing typed is lost: each answer box's text is kept in this tab's sessionStorage
   * as it is typed. When the page comes back with another last answer than the kept
   * text (the sign-in had ended, the form was stale, the student went away), the text is
   * put back in the box. Once the server shows it as the last answer, it is forgotten. */
  function draftKey(input) {
    return "grader:draft:" + input.dataset.attemptId + "-" + input.dataset.partId;
  }

  function keepDraft(input) {
    var key = draftKey(input);
    var last = input.dataset.lastAnswer || "";
    var saved = null;
    try {
      saved = window.sessionStorage.getItem(key);
    } catch (e) {
      return;
    }
    if (saved !== null) {
      if (saved === last || saved === "") {
        window.sessionStorage.removeItem(key);
      } else {
        input.value = saved;
        if (input.form && input.form.querySelector(".draft-note")) return listen();
        var note = el("p", "draft-note", "Your unsent answer is back in the box: check it and submit it.");
        note.setAttribute("role", "status");
        input.insertAdjacentElement("afterend", note);
      }
    }
    listen();

    function listen() {
      input.addEventListener("input", function () {
        try {
          window.sessionStorage.setItem(key, input.value);
        } catch (e) {
          /* storage full or disabled: the server's copy (a cookie) still brings it back */
        }
      });
    }
  }

  /* Times are sent in UTC (the fallback text); shown in the reader's own time zone. */
  function localizeTimes(root) {
    if (typeof Intl !== "object" || typeof Intl.DateTimeFormat !== "function") return;
    var format = new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    root.querySelectorAll("time[data-localize]").forEach(function (node) {
      var when = new Date(node.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      node.title = node.textContent;
      node.textContent = format.format(when);
    });
  }

  function focusPartFromHash() {
    var id = window.location.hash.slice(1);
    if (id.indexOf("part-") !== 0) return;
    var part = document.getElementById(id);
    var input = part && part.querySelector("input.answer-input");
    if (input) input.focus({ preventScroll: false });
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Answering on the graph: each box is sent when it changes (leaving it, or Enter), through
  // the same endpoint the plain form post uses; the answer shows every node's verdict and
  // the first wrong node, marked in the form and on the diagram. Requests go one at a
  // time, so the newest answer is the one shown.
  function attachGraphForm(form) {
    var section = form.closest(".graph-answer");
    var live = form.querySelector(".graph-live");
    var inputs = form.querySelectorAll(".graph-field input[name^='answer-']");
    var sent = {};
    var queue = Promise.resolve();
    inputs.forEach(function (input) { sent[input.name] = input.value; });

    function changed() {
      return Array.prototype.filter.call(inputs, function (input) {
        return !input.readOnly && input.value.trim() && input.value !== sent[input.name];
      });
    }

    function apply(data, boxes) {
      var graph = data.graph;
      var said = [];
      graph.nodes.forEach(function (node) {
        var fieldset = form.querySelector('fieldset[data-node="' + node.id + '"]');
        var mark = section.querySelector('.graph-mark[data-node="' + node.id + '"]');
        if (mark) mark.classList.toggle("is-first-wrong", node.first_wrong);
        if (!fieldset) return;
        fieldset.classList.toggle("is-first-wrong", node.first_wrong);
        var tag = fieldset.querySelector(".first-wrong-tag");
        if (node.first_wrong && !tag) {
          fieldset.querySelector("legend").appendChild(el("span", "first-wrong-tag", " – first wrong node"));
        } else if (!node.first_wrong && tag) {
          tag.remove();
        }
        node.fields.forEach(function (field) {
          var box = fieldset.querySelector('.graph-field[data-part-id="' + field.part_id + '"]');
          if (!box) return;
          box.dataset.status = field.status;
          var verdict = box.querySelector(".graph-verdict");
          verdict.className = "graph-verdict status-" + field.status;
          verdict.textContent = field.verdict_text;
          box.querySelector(".graph-hint").textContent = field.hint_text;
          var input = box.querySelector("input");
          input.readOnly = !field.accepting;
          if (document.activeElement !== input || input.value === field.value) {
            input.value = field.value;
          }
          sent[input.name] = field.value;
          if (boxes.indexOf(input) >= 0 && field.verdict_text) {
            said.push(box.querySelector("label").textContent + ": " + field.verdict_text);
          }
        });
      });
      var refused = (data.refused || []).map(function (r) { return r.message + "."; }).join(" ");
      live.classList.toggle("has-wrong", !!graph.first_wrong_node || !!refused);
      // the verdict of each box just sent, then where the chain first broke
      live.textContent = said.concat([graph.message, refused]).filter(Boolean).join(" ");
    }

    function send(boxes) {
      if (!boxes.length) return;
      var body = new FormData(form);
      Array.prototype.forEach.call(inputs, function (input) {
        if (boxes.indexOf(input) < 0) body.delete(input.name);
      });
      body.set("idempotency_key", randomKey());
      var before = {};
      boxes.forEach(function (input) {
        before[input.name] = sent[input.name];
        sent[input.name] = input.value;  // sent once: Enter's change and submit are one send
      });
      queue = queue.then(function () {
        return fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          body: body
        })
          .then(function (response) {
            if (response.ok) return response.json();
            // The server's own words when it gave some (an expired page: reload it).
            return response.json().then(
              function (data) { throw new Error(data && data.error ? data.error : ""); },
              function () { throw new Error(""); }
            );
          })
          .then(function (data) { apply(data, boxes); })
          .catch(function (error) {
            boxes.forEach(function (input) { sent[input.name] = before[input.name]; });
            live.classList.add("has-wrong");
            live.textContent = (error && error.message) ||
              "Your answer could not be sent; it is still in its box. Press Enter to try again.";
          });
      });
    }

    inputs.forEach(function (input) {
      input.addEventListener("change", function () {
        if (changed().indexOf(input) >= 0) send([input]);
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(changed());
    });
  }

  // After load: the browser's own scroll to the #part target would otherwise undo it.
  window.addEventListener("load", focusPartFromHash);

  document.addEventListener("DOMContentLoaded", function () {
    localizeTimes(document);
    document.querySelectorAll("input.answer-input[data-attempt-id]").forEach(keepDraft);
    typesetMath(document.body);
    document.querySelectorAll("input[data-preview-url]").forEach(attachPreview);
    document.querySelectorAll("form[data-answer-form]").forEach(guardDoubleSubmit);
    if (window.fetch && window.FormData && window.crypto) {
      document.querySelectorAll("form[data-graph-form]").forEach(attachGraphForm);
    }
  });
})();
