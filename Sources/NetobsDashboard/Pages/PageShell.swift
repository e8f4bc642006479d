/// The frame around every page: head, stylesheet, navigation, optional auto-refresh.
enum PageShell {
    static func render(title: String, active: String, refreshSeconds: Int?, body: String) -> String {
        let refresh = refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\(max(1, $0))\">\n" } ?? ""
        func link(_ path: String, _ text: String) -> String {
            "<a href=\"\(path)\"\(path == active ? " class=\"active\"" : "")>\(text)</a>"
        }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(refresh)<title>\(Markup.escape(title)) · netobs</title>
        <link rel="stylesheet" href="\(DashboardPaths.stylesheet)">
        </head>
        <body>
        <header><span class="brand">netobs</span><nav>\(link(DashboardPaths.overview, "Overview")) \
        \(link(DashboardPaths.flows, "Flows"))</nav></header>
        <main>
        <h1>\(Markup.escape(title))</h1>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    static func notFound(_ what: String) -> String {
        render(title: "Not found", active: "", refreshSeconds: nil,
               body: "<p class=\"empty\">\(Markup.escape(what)) — nothing was seen of it.</p>"
                   + "<p><a href=\"\(DashboardPaths.overview)\">Back to the overview</a></p>")
    }
}
