// The review page: read, listen and correct at once; Ctrl+S saves (see the shortcuts on the page).
(function () {
  "use strict";
  const root = document.querySelector(".review");
  if (!root) return;
  const player = document.getElementById("speler");
  const list = document.getElementById("zinnen");
  const status = document.getElementById("status");
  const done = document.getElementById("nagekeken");
  const token = document.querySelector('meta[name="review-token"]').content;
  let base = root.dataset.base;
  let dirty = false;
  let saving = false;
  let reached = parseFloat(root.dataset.until) || 0; // how far the editor has listened or edited
  let current = null; // the word last jumped to or clicked
  let stopAt = null; // replaying one segment: pause at its end

  function say(text, urgent) {
    status.textContent = text;
    status.setAttribute("role", urgent ? "alert" : "status");
  }

  function changed() {
    if (!dirty) {
      dirty = true;
      say("Niet opgeslagen wijzigingen.");
    }
  }

  function segmentOf(node) {
    while (node && !(node.classList && node.classList.contains("seg"))) node = node.parentNode;
    return node;
  }

  function focusedSegment() {
    const selection = window.getSelection();
    const fromCaret = selection.rangeCount ? segmentOf(selection.anchorNode) : null;
    return fromCaret || segmentOf(document.activeElement) || (current && segmentOf(current));
  }

  function seek(seconds, play) {
    player.currentTime = Math.max(0, seconds);
    if (play) player.play().catch(function () {});
  }

  function note(seconds) {
    if (seconds > reached) reached = seconds;
  }

  // -- words: click to listen, jump between doubtful ones --------------------------------------

  list.addEventListener("click", function (event) {
    const word = event.target.closest && event.target.closest(".w");
    if (word) {
      current = word;
      seek(parseFloat(word.dataset.s), true);
      return;
    }
    const button = event.target.closest && event.target.closest("[data-action=play-segment]");
    if (button) seek(parseFloat(segmentOf(button).dataset.start), true);
  });

  function doubtful() {
    return Array.prototype.slice.call(list.querySelectorAll(".w.doubt"));
  }

  function jump(step) {
    const words = doubtful();
    if (!words.length) return say("Geen gemarkeerde woorden.");
    let next;
    if (current && !document.contains(current)) current = null;
    if (!current) next = step > 0 ? words[0] : words[words.length - 1];
    else if (step > 0) {
      next = words.find(function (w) {
        return current.compareDocumentPosition(w) & Node.DOCUMENT_POSITION_FOLLOWING;
      });
    } else {
      next = words.slice().reverse().find(function (w) {
        return current.compareDocumentPosition(w) & Node.DOCUMENT_POSITION_PRECEDING;
      });
    }
    if (!next) return say(step > 0 ? "Dit was het laatste twijfelwoord." : "Dit was het eerste twijfelwoord.");
    current = next;
    const text = next.closest(".text");
    text.focus();
    const range = document.createRange();
    range.selectNodeContents(next);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    next.scrollIntoView({ block: "center" });
    seek(parseFloat(next.dataset.s), false);
    note(parseFloat(next.dataset.e));
    say("Twijfelwoord " + (words.indexOf(next) + 1) + " van " + words.length + ": " + next.textContent);
  }

  // -- structure: split, join, mark ------------------------------------------------------------

  function split() {
    const selection = window.getSelection();
    const segment = focusedSegment();
    if (!segment || !selection.rangeCount) return say("Zet de cursor in de zin die je wilt splitsen.");
    const text = segment.querySelector(".text");
    const range = selection.getRangeAt(0);
    if (!text.contains(range.startContainer)) return say("Zet de cursor in de tekst van de zin.");
    const rest = document.createRange();
    rest.setStart(range.startContainer, range.startOffset);
    rest.setEnd(text, text.childNodes.length);
    const moved = rest.extractContents();
    const copy = segment.cloneNode(true);
    copy.removeAttribute("data-source");
    copy.classList.remove("flagged");
    const copyText = copy.querySelector(".text");
    copyText.textContent = "";
    copyText.appendChild(moved);
    copy.querySelector(".speaker").value = segment.querySelector(".speaker").value;
    segment.after(copy);
    copyText.focus();
    changed();
    say("Zin gesplitst.");
  }

  function join() {
    const segment = focusedSegment();
    const next = segment && segment.nextElementSibling;
    if (!next) return say("Er is geen volgende zin om mee samen te voegen.");
    const text = segment.querySelector(".text");
    text.appendChild(document.createTextNode(" "));
    Array.prototype.slice.call(next.querySelector(".text").childNodes).forEach(function (node) {
      text.appendChild(node);
    });
    next.remove();
    text.focus();
    changed();
    say("Zinnen samengevoegd.");
  }

  function mark(marker) {
    const selection = window.getSelection();
    if (!selection.rangeCount || !segmentOf(selection.anchorNode)) {
      return say("Selecteer eerst de woorden die je wilt markeren.");
    }
    const range = selection.getRangeAt(0);
    range.deleteContents();
    range.insertNode(document.createTextNode(" " + marker + " "));
    changed();
    say("Gemarkeerd als " + marker + ".");
  }

  // -- speakers ----------------------------------------------------------------------------------

  function speakerOptions(slot, name) {
    list.querySelectorAll(".speaker").forEach(function (select) {
      let option = select.querySelector('option[value="' + slot + '"]');
      if (!option) {
        option = document.createElement("option");
        option.value = slot;
        select.appendChild(option);
      }
      option.textContent = name;
    });
  }

  document.getElementById("sprekers").addEventListener("input", function (event) {
    const input = event.target;
    if (!input.dataset.slot) return;
    speakerOptions(input.dataset.slot, input.value || input.dataset.slot);
    changed();
  });

  function addSpeaker() {
    const slots = Array.prototype.map.call(document.querySelectorAll("#sprekers input"), function (i) {
      return parseInt(i.dataset.slot.replace("SPEAKER_", ""), 10) || 0;
    });
    const number = Math.max.apply(null, slots.concat([0])) + 1;
    const slot = "SPEAKER_" + number;
    const item = document.createElement("li");
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "text";
    input.value = "Spreker " + number;
    input.dataset.slot = slot;
    label.append("Naam van spreker " + number + " ", input);
    item.appendChild(label);
    document.getElementById("sprekers").appendChild(item);
    speakerOptions(slot, input.value);
    input.focus();
    input.select();
    changed();
  }

  list.addEventListener("input", changed);
  list.addEventListener("change", changed);
  done.addEventListener("change", changed);

  // -- saving ------------------------------------------------------------------------------------

  function collect() {
    const segments = Array.prototype.map.call(list.querySelectorAll(".seg"), function (segment) {
      const source = segment.dataset.source;
      return {
        source: source === undefined ? null : parseInt(source, 10),
        speaker: segment.querySelector(".speaker").value || null,
        text: segment.querySelector(".text").innerText.replace(/\s+/g, " ").trim(),
      };
    });
    const speakers = {};
    document.querySelectorAll("#sprekers input").forEach(function (input) {
      speakers[input.dataset.slot] = input.value;
    });
    return { base: base, segments: segments, speakers: speakers, reviewed: done.checked,
             reviewed_until: reached };
  }

  function save() {
    if (saving) return;
    saving = true;
    say("Bezig met opslaan…");
    fetch(root.dataset.save, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Review-Token": token },
      body: JSON.stringify(collect()),
    }).then(function (response) {
      return response.json().then(function (answer) { return [response.ok, answer]; });
    }).then(function (outcome) {
      if (!outcome[0]) return say(outcome[1].message, true);
      base = outcome[1].base;
      dirty = false;
      const now = new Date();
      say("Opgeslagen om " + now.toLocaleTimeString("nl-NL", { hour: "2-digit", minute: "2-digit" }) +
          ". Draai wijk build om te publiceren.");
    }).catch(function () {
      say("Opslaan mislukt: de review-app is niet bereikbaar. Je wijzigingen staan nog op de pagina.", true);
    }).finally(function () {
      saving = false;
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // -- the player --------------------------------------------------------------------------------

  function toggleSlower(button) {
    player.playbackRate = player.playbackRate < 1 ? 1 : 0.75;
    const slower = player.playbackRate < 1;
    document.querySelector("[data-action=slower]").setAttribute("aria-pressed", String(slower));
    say(slower ? "Langzamer afspelen (0,75×)." : "Gewone snelheid.");
  }

  function replay() {
    const segment = focusedSegment() || list.querySelector(".seg");
    if (!segment) return;
    stopAt = parseFloat(segment.dataset.end);
    seek(parseFloat(segment.dataset.start), true);
  }

  player.addEventListener("timeupdate", function () {
    note(player.currentTime);
    if (stopAt !== null && player.currentTime >= stopAt) {
      player.pause();
      stopAt = null;
    }
  });

  function playPause() {
    if (player.paused) player.play().catch(function () {});
    else player.pause();
  }

  const actions = {
    save: save, previous: function () { jump(-1); }, next: function () { jump(1); },
    replay: replay, slower: toggleSlower, split: split, join: join, "add-speaker": addSpeaker,
  };
  document.querySelector(".toolbar").addEventListener("mousedown", function (event) {
    // keep the caret and selection in the text when a toolbar button is clicked
    if (event.target.closest("button")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("button[data-action]");
    if (!button || button.dataset.action === "play-segment") return;
    if (button.dataset.action === "mark") mark(button.dataset.marker);
    else if (actions[button.dataset.action]) actions[button.dataset.action]();
  });

  document.addEventListener("keydown", function (event) {
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && key.toLowerCase() === "s") {
      event.preventDefault();
      return save();
    }
    if (key === "Escape" && !event.altKey) {
      event.preventDefault();
      return playPause();
    }
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const byKey = {
      ArrowLeft: function () { seek(player.currentTime - 3, false); },
      ArrowDown: function () { jump(1); }, ArrowUp: function () { jump(-1); },
      r: replay, R: replay, s: toggleSlower, S: toggleSlower, Enter: split, j: join, J: join,
      1: function () { mark("[muziek]"); }, 2: function () { mark("[gelach]"); },
      3: function () { mark("[onverstaanbaar]"); },
    };
    const action = byKey[key] || byKey[event.code && event.code.replace("Digit", "")] ||
      { KeyR: replay, KeyS: toggleSlower, KeyJ: join }[event.code];
    if (action) {
      event.preventDefault();
      action();
    }
  });
})();
