/* Wijkarchief: progressive enhancement. Every page is complete without this script.
 *
 * Episode page: click a timestamp or a sentence to seek, highlight the segment being heard,
 * optional auto-scroll (off when the reader prefers reduced motion), search in the transcript.
 * Search page: search across the archive with Pagefind; results link to the passage (#t-95).
 * No inline handlers, no innerHTML with data: text is always inserted as text.
 */
(function () {
  "use strict";

  var doc = document.documentElement;
  doc.classList.add("js");
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  function onReady(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  function clock(seconds) {
    var total = Math.floor(seconds);
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = String(total % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs : minutes + ":" + secs;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* --- episode page: player and transcript --------------------------------------------- */

  function Episode(transcript, media) {
    this.transcript = transcript;
    this.media = media;
    this.segments = Array.prototype.slice.call(transcript.querySelectorAll(".seg[data-start]"));
    this.starts = this.segments.map(function (seg) { return parseFloat(seg.dataset.start); });
    this.current = null;
    this.follow = document.getElementById("meescrollen");
  }

  Episode.prototype.indexAt = function (time) {
    var low = 0, high = this.starts.length - 1, found = -1;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (this.starts[middle] <= time + 0.05) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return found;
  };

  Episode.prototype.seek = function (time, play) {
    if (!this.media) { return; }
    this.media.currentTime = time;
    if (play) {
      var started = this.media.play();
      if (started && started.catch) { started.catch(function () { /* autoplay refused: fine */ }); }
    }
    this.highlight(time);
  };

  Episode.prototype.highlight = function (time) {
    var index = this.indexAt(time);
    var segment = index >= 0 ? this.segments[index] : null;
    if (segment && parseFloat(segment.dataset.end) + 1.5 < time) { segment = null; }
    if (segment === this.current) { return; }
    if (this.current) { this.current.classList.remove("is-current"); }
    this.current = segment;
    if (!segment) { return; }
    segment.classList.add("is-current");
    if (this.follow && this.follow.checked && !this.media.paused) { this.scrollTo(segment); }
  };

  Episode.prototype.scrollTo = function (segment) {
    var box = segment.getBoundingClientRect();
    var top = parseFloat(getComputedStyle(doc).getPropertyValue("--player-h")) || 0;
    if (box.top >= top + 16 && box.bottom <= window.innerHeight - 32) { return; }
    segment.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
  };

  Episode.prototype.segmentFor = function (node) {
    var segment = node.closest ? node.closest(".seg[data-start]") : null;
    return segment && this.transcript.contains(segment) ? segment : null;
  };

  Episode.prototype.bind = function () {
    var self = this;
    this.transcript.addEventListener("click", function (event) {
      var segment = self.segmentFor(event.target);
      if (!segment || !self.media) { return; }
      var link = event.target.closest("a");
      if (link && !link.classList.contains("ts")) { return; }
      var selection = window.getSelection();
      if (!link && selection && !selection.isCollapsed) { return; } // the reader is selecting text
      if (link) { event.preventDefault(); }
      history.replaceState(null, "", "#" + segment.id);
      self.seek(parseFloat(segment.dataset.start), true);
    });
    document.querySelectorAll("a[data-seek]").forEach(function (link) {
      link.addEventListener("click", function () {
        if (self.media) { self.seek(parseFloat(link.dataset.seek), true); }
      });
    });
    if (this.media) {
      this.media.addEventListener("timeupdate", function () { self.highlight(self.media.currentTime); });
      this.media.addEventListener("seeked", function () { self.highlight(self.media.currentTime); });
    }
    if (this.follow) {
      this.follow.checked = !reducedMotion.matches;
    }
  };

  /* A link to #t-96 where no segment starts at 96 s goes to the segment being spoken then;
     the player is cued to the moment, so pressing play starts there. */
  Episode.prototype.followHash = function () {
    var match = /^#t-(\d+)(?:-\d+)?$/.exec(location.hash);
    if (!match) { return; }
    var target = document.getElementById(location.hash.slice(1));
    var time = parseInt(match[1], 10);
    if (target && target.dataset.start) { time = parseFloat(target.dataset.start); }
    if (!target) {
      var index = this.indexAt(time);
      target = index >= 0 ? this.segments[index] : null;
      if (target) { target.scrollIntoView({ block: "start" }); target.classList.add("is-current"); this.current = target; }
    }
    var media = this.media;
    if (!media) { return; }
    var cue = function () { if (media.currentTime < 0.01) { media.currentTime = time; } };
    if (media.readyState >= 1) { cue(); } else { media.addEventListener("loadedmetadata", cue, { once: true }); }
  };

  /* Keep focused and targeted elements clear of the sticky audio player (WCAG 2.4.11). */
  function trackPlayerHeight(player) {
    function update() {
      var sticky = getComputedStyle(player).position === "sticky";
      doc.style.setProperty("--player-h", sticky ? player.offsetHeight + "px" : "0px");
    }
    update();
    if (window.ResizeObserver) { new ResizeObserver(update).observe(player); }
    window.addEventListener("resize", update);
    document.addEventListener("focusin", function (event) {
      if (!sticky(player) || player.contains(event.target)) { return; }
      var box = event.target.getBoundingClientRect();
      var bottom = player.getBoundingClientRect().bottom;
      if (box.top < bottom) { window.scrollBy(0, box.top - bottom - 16); }
    });
  }

  function sticky(player) { return getComputedStyle(player).position === "sticky"; }

  /* --- search within the transcript ----------------------------------------------------- */

  function Finder(form, transcript) {
    this.form = form;
    this.transcript = transcript;
    this.input = form.querySelector("input[type=search]");
    this.status = form.querySelector(".find-status");
    this.marks = [];
    this.active = -1;
  }

  Finder.prototype.clear = function () {
    this.marks.forEach(function (mark) {
      var parent = mark.parentNode;
      parent.replaceChild(document.createTextNode(mark.textContent), mark);
      parent.normalize();
    });
    this.marks = [];
    this.active = -1;
  };

  Finder.prototype.textNodes = function () {
    var walker = document.createTreeWalker(this.transcript, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var parent = node.parentNode;
        if (parent.closest(".ts, summary, .visually-hidden")) { return NodeFilter.FILTER_REJECT; }
        return node.nodeValue.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) { nodes.push(walker.currentNode); }
    return nodes;
  };

  Finder.prototype.find = function (query) {
    this.clear();
    query = query.trim().toLowerCase();
    if (query.length < 2) { this.status.textContent = ""; return; }
    var self = this;
    this.textNodes().forEach(function (node) {
      var text = node.nodeValue, lower = text.toLowerCase(), from = 0, at;
      var pieces = [];
      while ((at = lower.indexOf(query, from)) !== -1) {
        pieces.push(document.createTextNode(text.slice(from, at)));
        var mark = element("mark", "", text.slice(at, at + query.length));
        pieces.push(mark);
        self.marks.push(mark);
        from = at + query.length;
      }
      if (!pieces.length) { return; }
      pieces.push(document.createTextNode(text.slice(from)));
      var fragment = document.createDocumentFragment();
      pieces.forEach(function (piece) { fragment.appendChild(piece); });
      node.parentNode.replaceChild(fragment, node);
    });
    var count = this.marks.length;
    this.status.textContent = count === 0 ? "Niet gevonden." : count === 1 ? "1 keer gevonden." : count + " keer gevonden.";
  };

  Finder.prototype.step = function (direction) {
    if (!this.marks.length) { return; }
    if (this.active >= 0) { this.marks[this.active].classList.remove("is-active"); }
    this.active = (this.active + direction + this.marks.length) % this.marks.length;
    var mark = this.marks[this.active];
    mark.classList.add("is-active");
    mark.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "auto" : "smooth" });
    this.status.textContent = (this.active + 1) + " van " + this.marks.length + ".";
  };

  Finder.prototype.bind = function () {
    var self = this, timer = null;
    this.input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.find(self.input.value); }, 200);
    });
    this.form.addEventListener("submit", function (event) { event.preventDefault(); self.step(1); });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); self.step(event.shiftKey ? -1 : 1); }
    });
    this.form.querySelectorAll("button[data-find]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!self.marks.length) { self.find(self.input.value); }
        self.step(button.dataset.find === "previous" ? -1 : 1);
      });
    });
  };

  function initEpisode() {
    var transcript = document.getElementById("transcriptie");
    if (!transcript) { return; }
    var media = document.querySelector(".player audio, .player video");
    var episode = new Episode(transcript, media);
    episode.bind();
    episode.followHash();
    var player = document.querySelector(".player");
    if (player) { trackPlayerHeight(player); }
    var tools = document.querySelector(".tools");
    if (tools) {
      tools.hidden = false;
      new Finder(tools.querySelector("form.find"), transcript).bind();
    }
  }

  /* --- search across the archive (Pagefind) ---------------------------------------------- */

  var PASSAGES_PER_PAGE = 4;
  var RESULTS = 20;
  var CONTEXT_WORDS = 14;

  /* Group hit locations by the transcript segment (id t-…) they fall in. */
  function passages(data) {
    var anchors = (data.anchors || []).filter(function (a) { return /^t-\d+(-\d+)?$/.test(a.id); })
      .sort(function (a, b) { return a.location - b.location; });
    var groups = [], byId = {};
    (data.locations || []).forEach(function (location) {
      var anchor = null;
      for (var i = 0; i < anchors.length && anchors[i].location <= location; i++) { anchor = anchors[i]; }
      var key = anchor ? anchor.id : "";
      if (!byId[key]) { byId[key] = { anchor: anchor, locations: [] }; groups.push(byId[key]); }
      byId[key].locations.push(location);
    });
    return groups.slice(0, PASSAGES_PER_PAGE);
  }

  /* A short excerpt around the first hit, built from words: matches in <mark>, all as text. */
  function excerpt(words, locations) {
    var first = locations[0];
    var start = Math.max(0, first - CONTEXT_WORDS), end = Math.min(words.length, first + CONTEXT_WORDS);
    var paragraph = element("p", "passage-text");
    if (start > 0) { paragraph.appendChild(document.createTextNode("… ")); }
    for (var i = start; i < end; i++) {
      var word = words[i];
      if (locations.indexOf(i) !== -1) { paragraph.appendChild(element("mark", "", word)); } else { paragraph.appendChild(document.createTextNode(word)); }
      if (i < end - 1) { paragraph.appendChild(document.createTextNode(" ")); }
    }
    if (end < words.length) { paragraph.appendChild(document.createTextNode(" …")); }
    return paragraph;
  }

  function renderResult(data) {
    var item = element("li", "result");
    var heading = element("h2");
    var title = element("a", "", (data.meta && data.meta.title) || data.url);
    title.href = data.url;
    heading.appendChild(title);
    item.appendChild(heading);
    var words = (data.content || "").split(/\s+/);
    var list = element("ul");
    passages(data).forEach(function (group) {
      var entry = element("li");
      var link = element("a", "passage-link");
      if (group.anchor) {
        var seconds = parseInt(group.anchor.id.slice(2), 10);
        link.href = data.url + "#" + group.anchor.id;
        link.textContent = "Fragment vanaf " + clock(seconds);
      } else {
        link.href = data.url;
        link.textContent = "Beschrijving van de aflevering";
      }
      var hidden = element("span", "visually-hidden", " in " + title.textContent);
      link.appendChild(hidden);
      entry.appendChild(link);
      entry.appendChild(excerpt(words, group.locations));
      list.appendChild(entry);
    });
    item.appendChild(list);
    return item;
  }

  function ArchiveSearch(form) {
    this.form = form;
    this.input = form.querySelector("input[name=q]");
    this.status = document.getElementById("zoekstatus");
    this.results = document.getElementById("zoekresultaten");
    this.pagefind = null;
    this.serial = 0;
  }

  // The index comes in shards (pipeline/search.py): pagefind/shards.json names them. The
  // first shard's Pagefind searches, the others are merged into it.
  ArchiveSearch.prototype.load = function () {
    if (this.pagefind) { return this.pagefind; }
    var rootUrl = new URL(doc.dataset.root || "./", location.href);
    var indexUrl = new URL("pagefind/", rootUrl);
    this.pagefind = fetch(new URL("shards.json", indexUrl).href).then(function (response) {
      if (!response.ok) { throw new Error("no search index"); }
      return response.json();
    }).then(function (manifest) {
      var shards = manifest.shards.map(function (shard) { return new URL(shard.name + "/", indexUrl); });
      if (!shards.length) { throw new Error("empty search index"); }
      return import(new URL("pagefind.js", shards[0]).href).then(function (pagefind) {
        var options = { baseUrl: rootUrl.pathname };
        return Promise.resolve(pagefind.options(options)).then(function () {
          return Promise.all(shards.slice(1).map(function (shard) {
            return pagefind.mergeIndex(shard.pathname, options);
          }));
        }).then(function () { return pagefind; });
      });
    });
    var self = this;
    this.pagefind.catch(function () { self.pagefind = null; });  // try again on the next search
    return this.pagefind;
  };

  ArchiveSearch.prototype.run = function (query) {
    var self = this, serial = ++this.serial;
    query = query.trim();
    this.results.textContent = "";
    if (!query) { this.status.textContent = ""; return Promise.resolve(); }
    this.status.textContent = "Bezig met zoeken…";
    return this.load().then(function (pagefind) {
      return pagefind.search(query);
    }).then(function (search) {
      return Promise.all(search.results.slice(0, RESULTS).map(function (r) { return r.data(); }));
    }).then(function (found) {
      if (serial !== self.serial) { return; }
      var list = element("ol");
      found.forEach(function (data) { list.appendChild(renderResult(data)); });
      self.results.appendChild(list);
      var count = found.length;
      self.status.textContent = count === 0 ? "Niets gevonden voor ‘" + query + "’." :
        (count === 1 ? "1 aflevering" : count + " afleveringen") + " gevonden voor ‘" + query + "’.";
      self.results.dataset.ready = "true";
    }).catch(function () {
      if (serial !== self.serial) { return; }
      self.status.textContent = "Zoeken lukt nu niet. Je kunt zoeken op de pagina van een aflevering met de zoekfunctie van je browser.";
    });
  };

  ArchiveSearch.prototype.bind = function () {
    var self = this;
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var url = new URL(location.href);
      url.searchParams.set("q", self.input.value);
      history.replaceState(null, "", url);
      self.run(self.input.value);
    });
    var query = new URL(location.href).searchParams.get("q");
    if (query) {
      this.input.value = query;
      this.run(query);
    }
  };

  function initSearch() {
    var form = document.getElementById("archief-zoeken");
    if (form) { new ArchiveSearch(form).bind(); }
  }

  onReady(function () {
    initEpisode();
    initSearch();
  });
})();
