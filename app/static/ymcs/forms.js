/* What every form shares (loaded by ymcs_base.html):
 * - select2 on every <select> not already one (FAB's own are; data-native opts out);
 * - FAB's add/edit forms leave checking to the server, which shows every error at once;
 * - confirmations in the page's modal (#ymcs-confirm) naming the object, not the browser's
 *   confirm(). Templates keep writing `return confirm("…")` in onsubmit/onclick: the first
 *   call answers false and opens the modal; OK replays the same submit or click, which this
 *   time is let through. So every confirmation, ours or a later screen's, looks the same. */
(function () {
  "use strict";

  function applySelect2(root) {
    if (!window.jQuery || !jQuery.fn.select2) { return; }
    jQuery(root).find("select").each(function () {
      var box = jQuery(this);
      if (box.hasClass("select2-hidden-accessible") || box.is("[data-native]")) {
        return;
      }
      var small = box.hasClass("input-sm");
      // Inline filter bars: as wide as the choice (a hidden tab has no width to resolve).
      var options = {width: small || box.closest(".form-inline").length ? "auto" : "100%",
                     minimumResultsForSearch: 8, theme: "bootstrap"};
      var blank = box.find("option[value='']").first();
      if (blank.length && !box.prop("required")) {
        options.placeholder = blank.text() || " ";
        options.allowClear = false;
      }
      box.select2(options);
      if (small) { box.next(".select2-container").addClass("ymcs-sm"); }
    });
  }

  // --- the confirmation modal ---------------------------------------------------------------
  var approved = false;

  function objectName(el) {
    if (!el || !el.closest) { return ""; }
    var named = el.closest("[data-object-name]");
    if (named) { return named.getAttribute("data-object-name"); }
    var row = el.closest("tr");
    if (row) {
      var cells = row.querySelectorAll("td");
      for (var i = 0; i < cells.length; i++) {
        if (cells[i].querySelector("input[type=checkbox]")) { continue; }
        var text = cells[i].textContent.trim();
        if (text) { return text; }
      }
    }
    var heading = document.querySelector(".panel-heading h4, .panel-heading .panel-title, h1, h2");
    return heading ? heading.textContent.trim() : "";
  }

  function replay(event) {
    var target = event.currentTarget || event.target;
    approved = true;
    try {
      if (event.type === "submit" && target.requestSubmit) {
        if (event.submitter) { target.requestSubmit(event.submitter); } else { target.requestSubmit(); }
      } else if (target.click) {
        target.click();
      }
    } finally {
      approved = false;
    }
  }

  window.confirm = function (message) {
    if (approved) { approved = false; return true; }
    var event = window.event, modal = document.getElementById("ymcs-confirm");
    if (!event || !modal || !window.jQuery) { return false; }
    var target = event.currentTarget || event.target;
    modal.querySelector(".ymcs-confirm-question").textContent = message;
    var name = event.type === "submit" && event.submitter ? objectName(event.submitter) : objectName(target);
    var object = modal.querySelector(".ymcs-confirm-object");
    object.textContent = name && message.indexOf(name) === -1 ? name : "";
    var ok = modal.querySelector(".ymcs-confirm-ok");
    var fresh = ok.cloneNode(true);  // drop the previous question's handler
    ok.parentNode.replaceChild(fresh, ok);
    var saved = {type: event.type, submitter: event.submitter, currentTarget: target, target: event.target};
    fresh.addEventListener("click", function () {
      jQuery(modal).modal("hide");
      replay(saved);
    });
    jQuery(modal).modal("show");
    return false;
  };

  if (window.jQuery) {
    jQuery(function () {
      applySelect2(document);
      // FAB's add and edit forms: the server marks every invalid field at once, where the
      // browser's own check stops at the first one.
      var model = document.getElementById("model_form");
      if (model) { model.noValidate = true; }
    });
  }
})();
