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

extension TLSConfiguration {
    /// A server that asks for no client certificate: the agents' bootstrap listener, where a
    /// client proves who it is with a token inside the connection, never by TLS.
    public static func serverWithoutClientCertificates(certificateChain: PEMSource, privateKey: PEMSource) -> TLSConfiguration {
        var configuration = TLSConfiguration.server(trustRoots: .bytes([]), certificateChain: certificateChain,
                                                    privateKey: privateKey)
        configuration.requestsClientCertificate = false
        return configuration
    }
}
