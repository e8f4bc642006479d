import NetobsSchema
import Testing

@Suite struct FailuresTests {
    @Test func httpFailsOn5xxAndOnNoResponse() {
        #expect(Failures.http(status: 503) && Failures.http(status: 500) && Failures.http(status: 0))
        #expect(!Failures.http(status: 200) && !Failures.http(status: 404) && !Failures.http(status: 499))
    }

    @Test func dnsFailsOnAnyCodeButNoError() {
        #expect(Failures.dns(responseCode: "NXDOMAIN") && Failures.dns(responseCode: "TIMEOUT"))
        #expect(!Failures.dns(responseCode: "NOERROR") && !Failures.dns(responseCode: ""))
    }

    @Test func connectionErrorsAreFailedConnectsAndTheListedErrnos() {
        #expect(Failures.connection(error: nil, connectFailed: true))
        #expect(Failures.connection(error: "ECONNRESET", connectFailed: false))
        #expect(!Failures.connection(error: "EPROTO", connectFailed: false))
        #expect(!Failures.connection(error: nil, connectFailed: false))
    }
}
