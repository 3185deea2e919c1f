// Site settings: "Copy" buttons for the script tag and a new server secret.
// Loaded from its own file (the CSP allows no inline script). Without the Clipboard API
// (an insecure origin, an old browser, a refused permission) the text is selected instead,
// ready for Ctrl+C / Cmd+C.
(function () {
  "use strict";

  function textOf(element) {
    return "value" in element ? element.value : element.textContent;
  }

  function selectText(element) {
    if (typeof element.select === "function") {
      element.focus();
      element.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, message) {
    var box = button.parentNode;
    var status = box && box.querySelector(".copy-status");
    if (status) {
      status.textContent = message;
    }
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) {
      return;
    }
    var text = textOf(target);
    var fallback = function () {
      selectText(target);
      say(button, "Selected: press Ctrl+C (Cmd+C on a Mac) to copy.");
    };
    if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
      navigator.clipboard.writeText(text).then(function () {
        say(button, "Copied.");
      }, fallback);
    } else {
      fallback();
    }
  }

  function init() {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        copy(event.currentTarget);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
