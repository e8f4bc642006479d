/// What counts as a failure, defined once for the metrics, the dashboard and the analysis (a pod
/// chart and the anomaly drawn on it must agree).
public enum Failures {
    /// An HTTP exchange failed: the server answered 5xx, or nothing (status 0: the connection
    /// ended before a response, as under resets and kills). 4xx are the caller's errors, not the
    /// server's faults.
    public static func http(status: Int) -> Bool { status >= 500 || status == 0 }

    /// A DNS query failed: any response code but NOERROR, TIMEOUT included; "" (unknown) is none.
    public static func dns(responseCode: String) -> Bool { !responseCode.isEmpty && responseCode != "NOERROR" }

    /// Socket errors that mean the connection failed (a refusal, a reset, a timeout, no route).
    /// Others (EPROTO, unnamed errnos) are not counted as connection errors.
    public static let connectionErrnos: Set<String> = ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH",
                                                       "ENETUNREACH", "ECONNABORTED", "EPIPE"]

    /// A TCP record shows a connection error: its connect failed, or it closed with one of `connectionErrnos`.
    public static func connection(error: String?, connectFailed: Bool) -> Bool {
        connectFailed || error.map(connectionErrnos.contains) ?? false
    }
}
