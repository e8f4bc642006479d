import Testing
@testable import NetobsDashboard

@Suite struct SVGRenderingTests {
    @Test func escapesEverythingMarkupCouldHideIn() {
        #expect(Markup.escape(#"<script>alert("x&y")</script>'"#)
            == "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;")
        #expect(Markup.escape("a\u{1}b\tc") == "a\u{FFFD}b\tc")
        #expect(Markup.escape("/détail/808a2de1") == "/détail/808a2de1")
        #expect(Markup.pathSegment("a b/<c>é") == "a%20b%2F%3Cc%3E%C3%A9")
        #expect(DashboardPaths.percentDecoded(Markup.pathSegment("a b/<c>é")) == "a b/<c>é")
        #expect(DashboardPaths.percentDecoded("100%zz") == "100%zz")
    }

    @Test func niceTicks() {
        #expect(LinearScale.niceStep(span: 100, target: 4) == 20)
        #expect(LinearScale.niceStep(span: 100, target: 3) == 50)
        #expect(LinearScale.niceStep(span: 7, target: 4) == 2)
        #expect(LinearScale.niceStep(span: 0.3, target: 4) == 0.1)
        #expect(LinearScale.zeroBasedDomain(max: 201) == 0...250)
        #expect(LinearScale.zeroBasedDomain(max: 0) == 0...1)
        #expect(LinearScale(domain: 0...250, range: 0...100).ticks() == [0, 50, 100, 150, 200, 250])
        #expect(LinearScale(domain: 0...0.3, range: 0...100).ticks() == [0, 0.1, 0.2, 0.3])
        #expect(LinearScale(domain: 0...1, range: 10...110, inverted: true)(0.25) == 85)
    }

    @Test func labels() {
        #expect(Format.number(0) == "0")
        #expect(Format.number(2.5) == "2.5")
        #expect(Format.number(0.125) == "0.125")
        #expect(Format.number(12.34) == "12.3")
        #expect(Format.number(1234) == "1234")
        #expect(Format.number(12_345) == "12.3k")
        #expect(Format.number(3_400_000) == "3.4M")
        #expect(Format.duration(ns: 201_000_000) == "201 ms")
        #expect(Format.duration(ns: 6_000) == "6 µs")
        #expect(Format.duration(ns: 1_500_000_000) == "1.5 s")
        #expect(Format.percent(0.0625) == "6.25%")
        #expect(Format.clock(ns: 1_764_000_000_000_000_000 + 3_723_000_000_000) == "17:02:03")
    }

    @Test func timeTicksFallOnRoundSeconds() {
        let base: UInt64 = 1_764_000_000_000_000_000
        let ticks = TimeTicks.ticks(fromNs: base + 500_000_000, toNs: base + 60_000_000_000, maxTicks: 5)
        #expect(ticks.map { ($0 - base) / 1_000_000_000 } == [15, 30, 45, 60])
    }

    @Test func pathBreaksAtGapsAndMapsValues() {
        let grid = SeriesGrid(startNs: 0, bucketNs: 1_000_000_000, count: 5)
        let chart = LineChart(title: "t", unit: "ms", grid: grid, lines: [])
        // Plot x: 50...530 over 0...5 s (96 px/s, points mid-bucket); y: 184 (0) up to 30 (4, the top of the domain).
        let values: [Double?] = [0, 4, nil, 2, nil]
        let d = LineChart(title: "t", unit: "ms", grid: grid, lines: [.init(name: "a", values: values)]).pathData(values)
        #expect(d == "M98,184 L194,30 M386,107")
        #expect(chart.isolatedPoints([nil, 1, nil]).count == 1)
        #expect(chart.pathData([nil, nil]) == "")
    }

    @Test func chartHasAxesBandsAndEscapedNames() {
        let grid = SeriesGrid(startNs: 0, bucketNs: 1_000_000_000, count: 10)
        let chart = LineChart(title: "p99 <URI>", unit: "ms", grid: grid,
                              lines: [.init(name: "/a?x=1&y=<2>", values: [1, 2, 3, nil, 5, 6, 7, 8, 9, 10])],
                              bands: [.init(startNs: 2_000_000_000, endNs: 4_000_000_000, label: "A loss", tooltip: "loss on \"x\"")])
        let svg = chart.svg()
        #expect(svg.contains("p99 &lt;URI&gt; (ms)"))
        #expect(svg.contains(#"data-series="/a?x=1&amp;y=&lt;2&gt;""#))
        #expect(svg.contains("loss on &quot;x&quot;"))
        #expect(svg.contains("<text x=\"149\" y=\"42\">A loss</text>"))
        #expect(!svg.contains("<URI>"))
        #expect(svg.components(separatedBy: "class=\"tick y\"").count - 1 == 6) // 0, 2, ..., 10
        #expect(svg.contains(">00:00:05</text>"))
        #expect(!svg.contains("no data"))
        #expect(LineChart(title: "e", unit: "", grid: grid, lines: [.init(name: "x", values: [nil])]).svg().contains("no data"))
    }

    @Test func layoutLayersCallersBeforeCallees() throws {
        let p = { PodID(namespace: "n", name: $0) }
        let layout = ServiceMapLayout(nodes: [p("lonely")],
                                      edges: [(p("front"), p("orders")), (p("orders"), p("payment")),
                                              (p("front"), p("payment")), (p("payment"), p("front"))])
        // payment -> front closes a cycle; the longest chain front -> orders -> payment sets the layers.
        #expect(layout.layers == [[p("front"), p("lonely")], [p("orders")], [p("payment")]])
        let again = ServiceMapLayout(nodes: [p("lonely")],
                                     edges: [(p("payment"), p("front")), (p("front"), p("payment")),
                                             (p("orders"), p("payment")), (p("front"), p("orders"))])
        #expect(again.positions == layout.positions)
        #expect(layout.positions[p("front")]!.x < layout.positions[p("orders")]!.x)
        // front -> payment skips the orders layer: it runs in a lane above orders, label included.
        let orders = layout.positions[p("orders")]!
        let skip = try #require(layout.routes[2])
        #expect(skip.label.y < orders.y)
        #expect(skip.path.hasPrefix("M\(LineChart.n(layout.positions[p("front")]!.x + ServiceMapLayout.nodeWidth)),"))
        // payment -> front goes back: in a lane below every pod it passes.
        let back = try #require(layout.routes[3])
        #expect(back.label.y > layout.positions.values.map(\.y).max()! + ServiceMapLayout.nodeHeight)
        #expect(layout.height > back.label.y)
        #expect(ServiceMapLayout(nodes: [], edges: [(p("a"), p("a"))]).routes == [nil])
        #expect(ServiceMapLayout(nodes: [], edges: []).layers.isEmpty)
    }

    @Test func mapDrawsEveryPodAndEdgeEscaped() {
        let a = PodID(namespace: "ns", name: "<front>")
        let b = PodID(namespace: "ns", name: "carts")
        let edge = ServiceEdge(source: a, destination: b, requests: 240, errorRate: 0.0625, p99LatencyNs: 201_000_000,
                               retransmits: 45, drops: 0, connectionErrors: 0, health: .failing)
        let svg = ServiceMapView(pods: [a, b], edges: [edge], anomalousPods: [b]).svg()
        #expect(svg.contains(#"data-pod="ns/&lt;front&gt;""#))
        #expect(svg.contains(#"href="/pods/ns/%3Cfront%3E""#))
        #expect(svg.contains(#"class="edge failing""#))
        #expect(svg.contains("240 req · 6.25% err · p99 201 ms · 45 rtx"))
        #expect(svg.contains(#"class="node healthy anomalous""#) == false)
        #expect(svg.contains(#"class="node failing anomalous""#))
        #expect(!svg.contains("<front>"))
        #expect(ServiceMapView(pods: [], edges: [], anomalousPods: []).svg().contains("No flows"))
    }
}
