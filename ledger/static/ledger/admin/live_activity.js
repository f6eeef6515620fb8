// Listens to the service's SSE stream and puts each new event at the top of the table.
// A stream opened without Last-Event-ID starts at the present, so once it is open the
// page asks the feed for what was recorded between its own rendering and that moment;
// events seen twice are shown once. EventSource reconnects with Last-Event-ID itself.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("live-status");
  const body = document.querySelector("#live-events tbody");
  const pageUrls = JSON.parse(document.getElementById("page-urls").textContent);
  const seen = new Set(Array.from(body.querySelectorAll("tr[data-position]"), (row) => row.dataset.position));
  let shownUpTo = Number(status.dataset.lastPosition);

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
    shownUpTo = Math.max(shownUpTo, Number(event.position));
    const row = document.createElement("tr");
    row.dataset.position = position;
    row.className = "new";
    const template = pageUrls[event.aggregate];
    const id = String(event.aggregate_id);
    const label = `${event.aggregate} ${id.length > 14 ? id.slice(0, 13) + "…" : id}`;
    const type = cell(event.type);
    type.className = "event-type";
    row.append(
      cell(position),
      cell(event.recorded_at),
      cell(label, template ? template.replace("__id__", encodeURIComponent(id)) : ""),
      type,
      cell((event.metadata && event.metadata.actor) || ""),
    );
    // Rows stay in position order even when a gap fill arrives after live events.
    const later = Array.from(body.rows).find((other) => Number(other.dataset.position) < Number(position));
    body.insertBefore(row, later || null);
  }

  async function fillGap() {
    let after = Number(status.dataset.lastPosition);
    for (;;) {
      const response = await fetch(`${status.dataset.feed}?after=${after}&limit=1000`, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = await response.json();
      page.results.forEach(show);
      if (page.results.length < 1000) return;
      after = page.last_position;
    }
  }

  const source = new EventSource(status.dataset.stream, { withCredentials: true });
  source.addEventListener("stream-open", () => {
    status.textContent = "live";
    status.className = "live-status connected";
    fillGap().catch((error) => console.warn("live activity: could not fill the gap", error));
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
