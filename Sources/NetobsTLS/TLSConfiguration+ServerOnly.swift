extension TLSConfiguration {
    /// A client that verifies the server against `trustRoots` (chain and name, as always) but
    /// presents no certificate of its own: for servers that authenticate clients otherwise,
    /// such as the Kubernetes API server with a service-account bearer token.
    public static func clientWithoutCertificate(trustRoots: PEMSource) -> TLSConfiguration {
        var configuration = TLSConfiguration.client(trustRoots: trustRoots, certificateChain: .bytes([]), privateKey: .bytes([]))
        configuration.presentsCertificate = false
        return configuration
    }
}
