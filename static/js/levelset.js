// Levelset's only script besides htmx (the Content-Security-Policy allows no inline script).
// Every page works without it; with it:
// - a failed form shows a summary of its errors at the top, linking to each field, and the
//   first field in error takes the focus; the address stays the page's own;
// - the navigation collapses behind a "Menu" button on narrow screens;
// - wide tables scroll inside their own keyboard-reachable region, never the whole page;
// - a form marked data-confirm asks before it acts; a <select data-autosubmit> submits its
//   form when it changes; a form marked data-busy disables its button while it works.
(function () {
  "use strict";

  function fieldOf(error) {
    // The control an error message belongs to: the one in the same .field, or else the
    // first control of the form (errors about the whole form).
    var holder = error.closest(".field");
    var control = holder && holder.querySelector("input:not([type=hidden]), select, textarea");
    if (!control) {
      var form = error.closest("form");
      control = form && form.querySelector("input:not([type=hidden]), select, textarea, button");
    }
    return control;
  }

  function labelOf(control) {
    if (!control) return "";
    var label = control.id && document.querySelector("label[for='" + control.id + "']");
    var legend = control.closest("fieldset") && control.closest("fieldset").querySelector("legend");
    var text = (label && label.textContent) || (legend && legend.textContent) || control.name || "";
    return text.trim().replace(/\s+/g, " ");
  }

  function reveal(control) {
    for (var node = control; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
  }

  function focusField(control) {
    reveal(control);
    control.focus({ preventScroll: true });
    control.scrollIntoView({ block: "center" });
  }

  function errorSummary() {
    var main = document.querySelector("main");
    var errors = main ? main.querySelectorAll(".error") : [];
    if (!errors.length || document.getElementById("error-summary")) return;
    var box = document.createElement("div");
    box.id = "error-summary";
    box.className = "error-summary";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-labelledby", "error-summary-title");
    var title = document.createElement("h2");
    title.id = "error-summary-title";
    title.textContent =
      errors.length === 1 ? "There is a problem" : "There are " + errors.length + " problems";
    box.appendChild(title);
    var list = document.createElement("ul");
    var first = null;
    errors.forEach(function (error) {
      var control = fieldOf(error);
      if (!control) return;
      if (!control.id) control.id = "field-" + Math.random().toString(36).slice(2);
      first = first || control;
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + control.id;
      var label = labelOf(control);
      link.textContent = (label ? label + ": " : "") + error.textContent.trim();
      link.addEventListener("click", function (event) {
        event.preventDefault();
        focusField(control);
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    var messages = main.querySelector(".messages");
    main.insertBefore(box, messages ? messages.nextSibling : main.firstChild);
    if (first) focusField(first);
  }

  function keepPageAddress() {
    // After a failed POST the server answers at the form's address; show the page's own.
    var own = document.body.getAttribute("data-page-url");
    if (own && own !== window.location.pathname + window.location.search) {
      window.history.replaceState(null, "", own);
    }
  }

  function menu() {
    var bar = document.querySelector(".topbar");
    var toggle = document.getElementById("menu-toggle");
    if (!bar || !toggle) return;
    toggle.hidden = false;
    bar.classList.add("js-menu");
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function scrollRegions() {
    document.querySelectorAll("main table").forEach(function (table) {
      var region = table.parentElement;
      if (!region.classList.contains("scroll")) {
        region = document.createElement("div");
        region.className = "scroll";
        table.parentNode.insertBefore(region, table);
        region.appendChild(table);
      }
      if (!region.hasAttribute("tabindex")) {
        var caption = table.querySelector("caption");
        var card = table.closest("section, .card");
        var heading = card && card.querySelector("h2, h3");
        region.setAttribute("tabindex", "0");
        region.setAttribute("role", "region");
        region.setAttribute(
          "aria-label",
          ((caption || heading || {}).textContent || "Table").trim().replace(/\s+/g, " ")
        );
      }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-busy")) {
      // After the browser has read the form (a disabled button would not be sent).
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
          b.disabled = true;
          b.setAttribute("aria-busy", "true");
        });
      }, 0);
    }
  });

  function start() {
    keepPageAddress();
    menu();
    scrollRegions();
    errorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
