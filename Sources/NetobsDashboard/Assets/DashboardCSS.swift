/// dashboard.css: one small stylesheet for every page and the SVG it draws.
enum DashboardCSS {
    static let source = #"""
    :root { --fg: #1a202c; --muted: #718096; --line: #e2e8f0; --bg: #f7fafc; --card: #fff; --accent: #2b6cb0;
            --red: #c53030; --amber: #d69e2e; --green: #2f855a; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); background: var(--bg); }
    header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1a365d; color: #fff; }
    header .brand { font-weight: bold; letter-spacing: .05em; }
    header nav a { color: #cbd5e0; text-decoration: none; margin-right: 16px; }
    header nav a.active, header nav a:hover { color: #fff; }
    main { padding: 8px 24px 32px; max-width: 1400px; }
    h1 { font-size: 20px; margin: 12px 0; }
    h2 { font-size: 16px; margin: 0 0 8px; }
    a { color: var(--accent); }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 14px 0; }
    .muted { color: var(--muted); font-size: 12px; }
    .empty { color: var(--muted); font-style: italic; }
    .count { background: var(--line); border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: normal; }
    .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 8px; vertical-align: middle; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-size: 12px; color: var(--muted); font-weight: 600; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    td.alert, tr.alert td { color: var(--red); font-weight: 600; }
    td.uri { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
    td.mark { font-weight: bold; color: var(--red); }
    .kind { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #fed7d7; color: #822727; font-size: 12px; }
    .kind.delay { background: #feebc8; color: #7b341e; }
    .kind.dns { background: #e9d8fd; color: #44337a; }
    .kind.reset { background: #fbd38d; color: #744210; }
    ul.evidence { margin: 0; padding-left: 16px; font-size: 12px; }
    .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 12px; }
    figure.chart-box { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 4px; }
    figure.chart-box.wide { margin: 14px 0; max-width: 1000px; }
    svg.chart { width: 100%; height: auto; display: block; }
    svg text { font-family: "DejaVu Sans", sans-serif; }
    .chart-title { font-size: 13px; font-weight: 600; fill: var(--fg); }
    .tick { font-size: 10px; fill: var(--muted); }
    .tick.y { text-anchor: end; }
    .tick.x { text-anchor: middle; }
    .gridline { stroke: #edf2f7; }
    .axis, .tickmark { stroke: #a0aec0; }
    path.series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
    .anomaly-band rect { fill: var(--red); fill-opacity: .13; }
    .anomaly-band text { font-size: 11px; font-weight: bold; fill: var(--red); }
    .no-data { font-size: 12px; fill: var(--muted); text-anchor: middle; }
    svg.service-map { max-width: 100%; height: auto; }
    .service-map .edge path { fill: none; stroke-width: 2.2; }
    .service-map .edge.failing path { stroke-width: 3.2; }
    .edge-label { font-size: 11px; text-anchor: middle; fill: #2d3748; }
    .edge-label-box { fill: #fff; fill-opacity: .88; }
    .service-map .node rect { fill: #fff; stroke-width: 2; }
    .service-map .node.anomalous rect { fill: #fff5f5; stroke-width: 3.5; }
    .service-map .node:hover rect { fill: #ebf8ff; }
    .pod-name { font-size: 13px; font-weight: 600; text-anchor: middle; fill: var(--fg); }
    .pod-ns { font-size: 10px; text-anchor: middle; fill: var(--muted); }
    .node.anomalous .pod-ns { fill: var(--red); }
    form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; }
    form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
    form.filters label.check { flex-direction: row; align-items: center; gap: 4px; }
    form.filters input:not([type=checkbox]) { width: 130px; padding: 4px 6px; border: 1px solid #cbd5e0; border-radius: 4px; }
    button { padding: 5px 14px; border: 0; border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
    table.flows td { font-size: 12px; }
    table.flows td:last-child { font-family: "DejaVu Sans Mono", monospace; }
    tr.kind-anomaly td { color: var(--red); }
    """#
}
