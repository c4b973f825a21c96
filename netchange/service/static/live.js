// Follows a running apply on the change page (netchange/service/live.py): each journal event of
// the change, sent as a server-sent event, becomes a row of the page's tables as it is written.
// A host's line shows its last step; a secondary one (the save after a commit or a restore, as the
// server marks it) goes beneath that step, never in its place. At the end the heading says the run
// finished, with its outcome.
// Text is set with textContent: device and people's text is never markup. Without script the page
// reloads itself instead (a meta refresh inside <noscript>).
"use strict";
(function () {
  var live = document.getElementById("live");
  if (!live || typeof EventSource === "undefined") {
    return;
  }
  var events = live.querySelector("#live-events tbody");
  var hosts = live.querySelector("#live-hosts tbody");
  var status = document.getElementById("live-status");
  var heading = document.getElementById("live-heading");
  var url = live.getAttribute("data-stream") + "?after=" + encodeURIComponent(live.getAttribute("data-after"));
  var source = new EventSource(url);

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function hostRow(host) {
    var rows = hosts.querySelectorAll("tr");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-host") === host) {
        return rows[i];
      }
    }
    var row = document.createElement("tr");
    row.setAttribute("data-host", host);
    cell(row, host, "nowrap");
    var step = cell(row, "", "step");
    var now = document.createElement("span");
    now.className = "now";
    step.appendChild(now);
    var saved = document.createElement("span");
    saved.className = "saved";
    step.appendChild(saved);
    cell(row, "", "at nowrap");
    hosts.appendChild(row);
    return row;
  }

  source.addEventListener("line", function (message) {
    var e = JSON.parse(message.data);
    var row = document.createElement("tr");
    row.className = e.tone;
    row.setAttribute("data-seq", e.seq);
    row.setAttribute("data-kind", e.kind);
    cell(row, e.at, "nowrap");
    cell(row, e.host, "nowrap");
    cell(row, e.text);
    events.appendChild(row);
    if (e.host) {
      var h = hostRow(e.host);
      var step = h.querySelector(".step");
      var now = step.querySelector(".now");
      var saved = step.querySelector(".saved");
      if (e.secondary && now.textContent) {
        saved.textContent = e.text;
        saved.className = e.tone === "bad" ? "saved bad" : "saved";
      } else {
        now.textContent = e.text;
        step.className = "step " + e.tone;
        saved.textContent = "";
        saved.className = "saved";
      }
      h.querySelector(".at").textContent = e.at;
    }
    status.textContent = "following the journal: event " + e.seq;
  });

  source.addEventListener("heading", function (message) {
    heading.textContent = JSON.parse(message.data).text;
  });

  source.addEventListener("end", function (message) {
    var d = JSON.parse(message.data);
    source.close();
    heading.textContent = d.heading;
    status.textContent = d.outcome;
    status.className = d.tone;
    // Each host's step as the server words it once the run ended (a host never committed says so).
    d.hosts.forEach(function (s) {
      var step = hostRow(s.host).querySelector(".step");
      step.className = "step " + s.tone;
      step.querySelector(".now").textContent = s.text;
      var saved = step.querySelector(".saved");
      saved.textContent = s.saved;
      saved.className = "saved " + s.saved_tone;
    });
    live.classList.add("finished");
    live.setAttribute("data-state", d.state);
    var badge = document.querySelector(".badges .state");
    if (badge) {
      badge.textContent = d.state.replace("_", " ");
      badge.className = "state " + d.state;
    }
  });

  source.addEventListener("error", function () {
    if (source.readyState !== EventSource.CLOSED) {
      status.textContent = "connection lost: reconnecting";
    }
  });
})();
