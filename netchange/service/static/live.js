// Follows a running apply on the change page (netchange/service/live.py): each journal event of
// the change, sent as a server-sent event, becomes a row of the page's tables as it is written.
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
    cell(row, "", "step");
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
      step.textContent = e.text;
      step.className = "step " + e.tone;
      h.querySelector(".at").textContent = e.at;
    }
    status.textContent = "following the journal: event " + e.seq;
  });

  source.addEventListener("end", function (message) {
    var d = JSON.parse(message.data);
    source.close();
    status.textContent = "finished: " + d.outcome;
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
