/* The board: drag a card to another column, or use its "Move" menu; the table's "check all".
 *
 * Every move is the card's own <form> (it works without this script: the server moves the
 * prospect and redirects back). With the script the same form is posted with fetch and
 * Accept: application/json, carrying the stage the card was shown in (expected_from); the
 * server refuses with 409 when someone moved the prospect meanwhile, and the card then goes
 * where the prospect really is.
 */
(function () {
  "use strict";

  function announce(text, isError) {
    var live = document.getElementById("board-live");
    if (!live) return;
    live.innerHTML = "";
    var p = document.createElement("p");
    p.textContent = text;
    if (isError) p.className = "error";
    live.appendChild(p);
    clearTimeout(announce.timer);
    announce.timer = setTimeout(function () { live.innerHTML = ""; }, isError ? 8000 : 3500);
  }

  function columnOf(stage) {
    return document.querySelector('.board-col[data-stage="' + stage + '"]');
  }

  function bumpCount(column, delta) {
    var badge = column && column.querySelector("[data-count]");
    if (badge) badge.textContent = String(Math.max(0, parseInt(badge.textContent, 10) + delta));
  }

  // Cards are ordered by score (highest first), as the server sorts them.
  function insertByScore(list, card) {
    var score = parseInt(card.dataset.score, 10);
    var cards = list.querySelectorAll(".pcard");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i] !== card && parseInt(cards[i].dataset.score, 10) < score) {
        list.insertBefore(card, cards[i]);
        return;
      }
    }
    var tail = list.querySelector(".more, .placeholder");
    list.insertBefore(card, tail);
  }

  function setStage(card, stage, reasonLabel) {
    var from = columnOf(card.dataset.stage);
    var to = columnOf(stage);
    card.dataset.stage = stage;
    var form = card.querySelector("form.move-form");
    form.elements.expected_from.value = stage;
    form.querySelectorAll("button[name=to_stage]").forEach(function (button) {
      button.disabled = button.value === stage;
    });
    var reason = card.querySelector("[data-reason]");
    if (reason) reason.remove();
    if (reasonLabel) {
      reason = document.createElement("div");
      reason.className = "reason";
      reason.setAttribute("data-reason", "");
      reason.textContent = reasonLabel;
      card.querySelector(".pcard-meta").after(reason);
    }
    if (from !== to) {
      bumpCount(from, -1);
      if (to) {
        bumpCount(to, 1);
        insertByScore(to.querySelector(".board-cards"), card);
      } else {
        card.remove();  // a stage not on this board
      }
    }
    card.classList.remove("flash");
    void card.offsetWidth;  // restart the animation
    card.classList.add("flash");
  }

  function postMove(card, toStage, extra) {
    var form = card.querySelector("form.move-form");
    var data = new FormData();
    data.set("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    data.set("expected_from", card.dataset.stage);
    data.set("to_stage", toStage);
    Object.keys(extra || {}).forEach(function (key) { if (extra[key]) data.set(key, extra[key]); });
    card.classList.add("pending");
    return fetch(card.dataset.moveUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": data.get("csrfmiddlewaretoken")},
    }).then(function (response) {
      return response.json().catch(function () { return {error: "The server answered " + response.status + "."}; })
        .then(function (body) { return {status: response.status, body: body}; });
    }).then(function (result) {
      card.classList.remove("pending");
      if (result.status === 200) {
        setStage(card, result.body.stage, result.body.reject_reason);
        announce(result.body.message, false);
        return true;
      }
      if (result.status === 409 && result.body.actual) setStage(card, result.body.actual, "");
      announce(result.body.error || "The move failed.", true);
      return false;
    }, function () {
      card.classList.remove("pending");
      announce("The move did not reach the server: check your connection and try again.", true);
      return false;
    });
  }

  // Rejected needs a reason; Link Acquired may carry the linking page. Both ask in a dialog.
  function askDetails(toStage, card) {
    var dialog = document.getElementById("move-dialog");
    if (!dialog || (toStage !== "rejected" && toStage !== "link_acquired")) return Promise.resolve({});
    var form = dialog.querySelector("form");
    form.reset();
    dialog.querySelector("#move-dialog-title").textContent =
      "Move " + card.dataset.domain + " to " + columnOf(toStage).dataset.label;
    dialog.querySelectorAll("[data-for]").forEach(function (block) {
      block.hidden = block.dataset.for !== toStage;
    });
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (dialog.returnValue !== "ok") return resolve(null);
        resolve({
          reject_reason: toStage === "rejected" ? form.elements.reject_reason.value : "",
          linking_page_url: toStage === "link_acquired" ? form.elements.linking_page_url.value.trim() : "",
          reason: form.elements.reason.value.trim(),
        });
      });
      dialog.returnValue = "";  // Escape keeps the previous value otherwise
      dialog.showModal();
    });
  }

  function initBoard(board) {
    var dragged = null;

    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest(".pcard");
      if (!card) return;
      dragged = card;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.id);
      card.classList.add("dragging");
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
      dragged = null;
    });
    board.addEventListener("dragover", function (event) {
      var column = event.target.closest && event.target.closest(".board-col");
      if (!column || !dragged) return;
      event.preventDefault();  // allows the drop
      event.dataTransfer.dropEffect = "move";
      board.querySelectorAll(".drop-target").forEach(function (c) { if (c !== column) c.classList.remove("drop-target"); });
      column.classList.add("drop-target");
    });
    board.addEventListener("drop", function (event) {
      var column = event.target.closest && event.target.closest(".board-col");
      if (!column || !dragged) return;
      event.preventDefault();
      column.classList.remove("drop-target");
      var card = dragged;
      var toStage = column.dataset.stage;
      if (toStage === card.dataset.stage) return;
      askDetails(toStage, card).then(function (extra) {
        if (extra) postMove(card, toStage, extra);
      });
    });

    // The Move menu: same form, posted in place so the page keeps its scroll and filters.
    board.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.classList.contains("move-form") || !event.submitter) return;
      event.preventDefault();
      var card = form.closest(".pcard");
      var toStage = event.submitter.value;
      var extra = toStage === "rejected" ? {reject_reason: form.elements.reject_reason.value} : {};
      form.closest("details").open = false;
      postMove(card, toStage, extra).then(function (moved) {
        if (moved) card.querySelector("summary").focus();
      });
    });
  }

  function initTable(form) {
    var all = form.querySelector("[data-check-all]");
    var counter = form.querySelector("[data-selected-count]");
    var boxes = function () { return form.querySelectorAll('input[name="ids"]'); };
    function update() {
      var checked = form.querySelectorAll('input[name="ids"]:checked').length;
      counter.textContent = checked ? checked + " checked" : "";
      if (all) all.checked = checked > 0 && checked === boxes().length;
    }
    if (all) all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
      update();
    });
    form.addEventListener("change", function (event) { if (event.target.name === "ids") update(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.querySelector("[data-board]");
    if (board) initBoard(board);
    var bulk = document.getElementById("bulk-form");
    if (bulk) initTable(bulk);
  });
})();
