/// flows.js: subscribes to the records endpoint (server-sent events) with the page's filters
/// and prepends each record to the flow table. Cells are set with textContent only.
enum FlowsScript {
    static let source = #"""
    (function () {
      "use strict";
      var table = document.getElementById("flows");
      if (!table) { return; }
      var rows = table.tBodies[0];
      var status = document.getElementById("flow-status");
      var counter = document.getElementById("flow-count");
      var maxRows = 300, seen = 0;
      var filters = ["namespace", "pod", "service", "kind", "protocol", "status", "anomalies"];
      var url = new URL(table.dataset.stream, window.location.href);
      var query = new URLSearchParams(window.location.search);
      filters.forEach(function (k) { var v = query.get(k); if (v) { url.searchParams.set(k, v); } });

      function pad(n, w) { n = String(n); while (n.length < (w || 2)) { n = "0" + n; } return n; }
      function clock(ns) {
        if (ns == null) { return ""; }
        var d = new Date(Number(ns) / 1e6);
        return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) +
          "." + pad(d.getUTCMilliseconds(), 3);
      }
      function ms(ns) { return ns == null ? "" : (Number(ns) / 1e6).toFixed(1) + " ms"; }
      function endpoint(pod, ns, ip, port) {
        if (pod) { return (ns ? ns + "/" : "") + pod; }
        return ip ? ip + (port ? ":" + port : "") : "";
      }
      function join(parts) { return parts.filter(function (p) { return p !== undefined && p !== null && p !== ""; }).join("  "); }
      function details(r) {
        switch (r.kind) {
        case "http":
          return join([r.http_request_method, r.http_request_uri, r.http_status_code, ms(r.http_duration)]);
        case "dns":
          return join([r.dns_query_type, r.dns_query_domain, r.dns_response_code, ms(r.dns_duration)]);
        case "tcp":
          return join([r.tcp_new_state, r.tcp_rtt ? "rtt " + ms(r.tcp_rtt) : "",
            r.tcp_retransmit ? r.tcp_retransmit + " retransmits" : "", r.tcp_drop ? r.tcp_drop + " drops" : "",
            r.tcp_error || "", (r.tcp_rx_bytes || 0) + "/" + (r.tcp_tx_bytes || 0) + " B rx/tx"]);
        case "udp":
          return join([(r.udp_rx_bytes || 0) + "/" + (r.udp_tx_bytes || 0) + " B rx/tx"]);
        case "anomaly":
          return join([r.fault, r.pod, r.uri, r.score != null ? "score " + r.score : ""]);
        default:
          return JSON.stringify(r).slice(0, 200);
        }
      }
      function add(r) {
        if (!r || typeof r !== "object") { return; }
        var kind = String(r.kind || "?");
        var tr = document.createElement("tr");
        tr.className = "flow kind-" + kind.replace(/[^a-z_]/g, "");
        [clock(r.ts_ns != null ? r.ts_ns : r.start_ns), kind,
         endpoint(r.src_pod, r.src_ns, r.src_ip, r.src_port),
         endpoint(r.dst_pod, r.dst_ns, r.dst_ip, r.dst_port), details(r)].forEach(function (text) {
          var td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        rows.insertBefore(tr, rows.firstChild);
        while (rows.rows.length > maxRows) { rows.deleteRow(-1); }
        seen += 1;
        counter.textContent = seen + " records received (newest first, last " + maxRows + " kept)";
      }
      function onMessage(ev) {
        var r;
        try { r = JSON.parse(ev.data); } catch (e) { return; }
        if (Array.isArray(r)) { r.forEach(add); } else { add(r); }
      }
      if (!window.EventSource) { status.textContent = "This browser has no EventSource."; return; }
      var source = new EventSource(url.toString());
      status.textContent = "Connecting to " + url.pathname + url.search + "…";
      source.onopen = function () { status.textContent = "Live: " + url.pathname + url.search; };
      source.onmessage = onMessage;
      source.addEventListener("record", onMessage);
      source.onerror = function () {
        status.textContent = source.readyState === EventSource.CLOSED ? "Stream closed." : "Stream interrupted, reconnecting…";
      };
    })();
    """#
}
