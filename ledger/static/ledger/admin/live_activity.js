// Listens to the service's SSE stream and puts each new event at the top of the table.
// It resumes after the last event the page was rendered with (lastEventId), so none
// is missed between the page load and the connection, and EventSource reconnects
// with Last-Event-ID by itself.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("live-status");
  const body = document.querySelector("#live-events tbody");
  const pageUrls = JSON.parse(document.getElementById("page-urls").textContent);
  const seen = new Set(Array.from(body.querySelectorAll("tr[data-position]"), (row) => row.dataset.position));
  const url = new URL(status.dataset.stream, window.location.href);
  url.searchParams.set("lastEventId", `${status.dataset.channel}:${status.dataset.lastPosition}`);

  function cell(text, href) {
    const td = document.createElement("td");
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      td.appendChild(link);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function show(event) {
    const position = String(event.position);
    if (seen.has(position)) return;
    seen.add(position);
    const row = document.createElement("tr");
    row.dataset.position = position;
    row.className = "new";
    const template = pageUrls[event.aggregate];
    const id = String(event.aggregate_id);
    const label = `${event.aggregate} ${id.length > 14 ? id.slice(0, 13) + "…" : id}`;
    row.append(
      cell(position),
      cell(event.recorded_at),
      cell(label, template ? template.replace("__id__", encodeURIComponent(id)) : ""),
      cell(event.type),
      cell((event.metadata && event.metadata.actor) || ""),
    );
    row.cells[3].className = "event-type";
    body.prepend(row);
  }

  const source = new EventSource(url.toString(), { withCredentials: true });
  source.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "live-status connected";
  });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting…";
    status.className = "live-status disconnected";
  });
  source.addEventListener("message", (message) => {
    try {
      show(JSON.parse(message.data));
    } catch (error) {
      console.warn("live activity: unreadable event", error);
    }
  });
});
