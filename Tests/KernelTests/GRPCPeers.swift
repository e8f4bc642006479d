import Foundation
import NodeLab

/// A real gRPC peer (Debian's python3-grpcio, C-core over the system libssl): a server with
/// raw-bytes handlers (no generated code) and a client calling them, both over TLS.
enum GRPCPeers {
    static var available: Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Peers.python)
        p.arguments = ["-c", "import grpc"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// lab.Echo/Say answers OK, lab.Echo/Missing aborts NOT_FOUND (5), lab.Echo/Boom raises
    /// (UNKNOWN, 2). Prints "serving" once listening.
    /// `cert` nil: cleartext (h2c, prior knowledge).
    static func server(ip: String, port: Int, cert: String?, key: String?) -> [String] {
        [Peers.python, "-c", """
            import grpc, sys
            from concurrent import futures
            def say(req, ctx): return b"hi " + req
            def missing(req, ctx): ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
            def boom(req, ctx): raise RuntimeError("boom")
            handlers = {n: grpc.unary_unary_rpc_method_handler(f) for n, f in
                        [("Say", say), ("Missing", missing), ("Boom", boom)]}
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("lab.Echo", handlers),))
            if len(sys.argv) > 3:
                creds = grpc.ssl_server_credentials([(open(sys.argv[3], "rb").read(), open(sys.argv[2], "rb").read())])
                server.add_secure_port(sys.argv[1], creds)
            else:
                server.add_insecure_port(sys.argv[1])
            server.start()
            print("serving", flush=True)
            server.wait_for_termination()
            """, "\(ip):\(port)"] + (cert.map { [$0] } ?? []) + (key.map { [$0] } ?? [])
    }

    /// Cleartext (h2c): all calls at once on one channel (one connection, concurrent streams);
    /// prints the status code number per call, in the order given.
    static func concurrentClient(ip: String, port: Int, methods: [String]) -> [String] {
        [Peers.python, "-c", """
            import grpc, sys
            with grpc.insecure_channel(sys.argv[1]) as channel:
                grpc.channel_ready_future(channel).result(timeout=10)
                calls = [channel.unary_unary("/lab.Echo/" + m).future(b"x", timeout=10) for m in sys.argv[2:]]
                for c in calls:
                    try:
                        c.result()
                        print(0, flush=True)
                    except grpc.RpcError as e:
                        print(e.code().value[0], flush=True)
            """, "\(ip):\(port)"] + methods
    }

    /// Calls each method in turn on one channel; prints the status code number per call.
    static func client(ip: String, port: Int, cert: String, methods: [String]) -> [String] {
        [Peers.python, "-c", """
            import grpc, sys
            creds = grpc.ssl_channel_credentials(root_certificates=open(sys.argv[2], "rb").read())
            with grpc.secure_channel(sys.argv[1], creds) as channel:
                for method in sys.argv[3:]:
                    call = channel.unary_unary("/lab.Echo/" + method)
                    try:
                        call(b"x", timeout=10)
                        print(0, flush=True)
                    except grpc.RpcError as e:
                        print(e.code().value[0], flush=True)
            """, "\(ip):\(port)", cert] + methods
    }
}
