import Foundation
import NetobsTLS
import NetobsTopology

/// Certificates for the stand-in API server and a kubeconfig that trusts it.
struct KubeTestPKI {
    let ca: (certificate: Certificate, key: PrivateKey)
    let server: (certificate: Certificate, key: PrivateKey)
    let client: (certificate: Certificate, key: PrivateKey)

    init() throws {
        ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "kubernetes CA", usage: .certificateAuthority))
        server = try CertificateFactory.issue(CertificateRequest(commonName: "kube-apiserver", usage: .server, role: .controller,
                                                                 ipAddresses: ["127.0.0.1"]), by: ca)
        client = try CertificateFactory.issue(CertificateRequest(commonName: "netobs", usage: .client, role: .consumer), by: ca)
    }

    func serverContext() throws -> TLSContext {
        try TLSContext(configuration: .server(trustRoots: .bytes(ca.certificate.pem), certificateChain: .bytes(server.certificate.pem),
                                              privateKey: .bytes(server.key.pkcs8PEM)))
    }

    /// A kubeconfig for https://127.0.0.1:port with the CA and client certificate inline.
    func kubeconfig(port: Int, directory: String) throws -> String {
        let path = directory + "/kubeconfig"
        let b64 = { (bytes: [UInt8]) in Data(bytes).base64EncodedString() }
        let text = """
        apiVersion: v1
        kind: Config
        current-context: test
        clusters:
        - name: stand-in
          cluster:
            server: https://127.0.0.1:\(port)
            certificate-authority-data: \(b64(ca.certificate.pem))
        users:
        - name: netobs
          user:
            client-certificate-data: \(b64(client.certificate.pem))
            client-key-data: \(b64(client.key.pkcs8PEM))
        contexts:
        - name: test
          context: {cluster: stand-in, user: netobs}
        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Kubernetes objects as the API server sends them, and the model each should become.
enum KubeObjects {
    static func pod(_ name: String, ip: String, uid: String? = nil, namespace: String = "shop", node: String = "node-1") -> [String: Any] {
        ["kind": "Pod", "apiVersion": "v1",
         "metadata": ["name": name, "namespace": namespace, "uid": uid ?? "uid-\(name)",
                      "labels": ["app": String(name.split(separator: "-").first!), "pod-template-hash": "5d9f"],
                      "ownerReferences": [["kind": "ReplicaSet", "name": "\(name.split(separator: "-").first!)-5d9f", "controller": true]]],
         "spec": ["nodeName": node, "containers": [["name": "c", "image": "x"]]],
         "status": ["phase": "Running", "podIP": ip, "podIPs": [["ip": ip]]]]
    }

    static func podModel(_ name: String, ip: String, uid: String? = nil, namespace: String = "shop", node: String = "node-1") -> TopologyPod {
        let app = String(name.split(separator: "-").first!)
        return TopologyPod(name: name, namespace: namespace, uid: uid ?? "uid-\(name)", ips: [ip], node: node,
                           labels: ["app": app, "pod-template-hash": "5d9f"], workload: "deployment/\(app)")
    }

    static func service(_ name: String, clusterIP: String, namespace: String = "shop") -> [String: Any] {
        ["kind": "Service", "metadata": ["name": name, "namespace": namespace],
         "spec": ["clusterIP": clusterIP, "clusterIPs": [clusterIP], "selector": ["app": name],
                  "ports": [["port": 80, "protocol": "TCP", "targetPort": 8080], ["name": "admin", "port": 81, "targetPort": "admin"]]]]
    }

    static func serviceModel(_ name: String, clusterIP: String, namespace: String = "shop") -> TopologyService {
        TopologyService(name: name, namespace: namespace, clusterIPs: [clusterIP],
                        ports: [.init(port: 80, protocol: "TCP", targetPort: 8080), .init(port: 81, protocol: "TCP", targetPort: nil)],
                        selector: ["app": name])
    }

    static func slice(_ service: String, backends: [(pod: String, ip: String)], namespace: String = "shop") -> [String: Any] {
        ["kind": "EndpointSlice", "addressType": "IPv4",
         "metadata": ["name": "\(service)-abc", "namespace": namespace, "labels": ["kubernetes.io/service-name": service]],
         "ports": [["name": "", "port": 8080, "protocol": "TCP"]],
         "endpoints": backends.map { ["addresses": [$0.ip], "conditions": ["ready": true], "targetRef": ["kind": "Pod", "name": $0.pod]] }]
    }

    static func sliceModel(_ service: String, backends: [(pod: String, ip: String)], namespace: String = "shop") -> TopologyEndpointSlice {
        TopologyEndpointSlice(name: "\(service)-abc", namespace: namespace, service: service, ports: [8080],
                              endpoints: backends.map { .init(ips: [$0.ip], pod: $0.pod, ready: true) })
    }

    static func node(_ name: String, ip: String) -> [String: Any] {
        ["kind": "Node", "metadata": ["name": name],
         "status": ["addresses": [["type": "InternalIP", "address": ip], ["type": "Hostname", "address": name]]]]
    }
}
