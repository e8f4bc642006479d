/// Small Python peers with exactly known traffic: the ground truth of the byte counts.
enum Peers {
    /// Debian's interpreter: a pyenv shim on PATH would run as "python3.11" and fork.
    static let python = "/usr/bin/python3"

    /// Accepts one connection, reads `expect` bytes, answers `reply` bytes, waits for the
    /// client's close, closes. Prints "ready" once listening.
    static func tcpServer(ip: String, port: Int, expect: Int, reply: Int) -> [String] {
        [python, "-c", """
        import socket, sys
        fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
        s = socket.socket(fam)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[1], int(sys.argv[2]))); s.listen()
        print('ready', flush=True)
        c, _ = s.accept(); want = int(sys.argv[3]); got = 0
        while got < want:
            d = c.recv(65536)
            if not d: break
            got += len(d)
        c.sendall(b'y' * int(sys.argv[4]))
        while c.recv(65536): pass
        c.close(); print('got', got, flush=True)
        """, ip, String(port), String(expect), String(reply)]
    }

    /// Connects, optionally waits `pause` seconds, sends `send` bytes, reads `expect`, closes.
    static func tcpClient(ip: String, port: Int, send: Int, expect: Int, pause: Double = 0) -> [String] {
        [python, "-c", """
        import socket, sys, time
        fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
        c = socket.socket(fam); c.connect((sys.argv[1], int(sys.argv[2])))
        print('connected', flush=True)
        time.sleep(float(sys.argv[5]))
        c.sendall(b'x' * int(sys.argv[3])); want = int(sys.argv[4]); got = 0
        while got < want:
            d = c.recv(65536)
            if not d: break
            got += len(d)
        c.close(); print('got', got, flush=True)
        """, ip, String(port), String(send), String(expect), String(pause)]
    }

    /// Sends `chunks` chunks of `chunkSize` bytes with `pause` seconds between them, then
    /// reads one byte and closes: a connection that lives a while with steady RTT samples.
    static func tcpPacedClient(ip: String, port: Int, chunks: Int, chunkSize: Int, pause: Double) -> [String] {
        [python, "-c", """
        import socket, sys, time
        c = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
        c.connect((sys.argv[1], int(sys.argv[2])))
        for _ in range(int(sys.argv[3])):
            c.sendall(b'p' * int(sys.argv[4])); time.sleep(float(sys.argv[5]))
        c.recv(1); c.close()
        """, ip, String(port), String(chunks), String(chunkSize), String(pause)]
    }

    /// A TCP connect that reports the errno name it failed with (or "connected").
    static func tcpConnectOnce(ip: String, port: Int) -> [String] {
        [python, "-c", """
        import socket, sys, errno
        c = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
        try:
            c.connect((sys.argv[1], int(sys.argv[2]))); print('connected')
        except OSError as e:
            print(errno.errorcode[e.errno])
        """, ip, String(port)]
    }

    /// Echoes `count` datagrams back to their sender with sendto (an unconnected socket).
    static func udpEchoServer(ip: String, port: Int, count: Int) -> [String] {
        [python, "-c", """
        import socket, sys
        fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
        print('ready', flush=True)
        for _ in range(int(sys.argv[3])):
            d, peer = s.recvfrom(65536); s.sendto(d, peer)
        """, ip, String(port), String(count)]
    }

    /// Sends `count` datagrams of `size` bytes and reads each echo; `connected` uses
    /// connect()+send(), otherwise sendto()/recvfrom().
    static func udpClient(ip: String, port: Int, count: Int, size: Int, connected: Bool) -> [String] {
        [python, "-c", """
        import socket, sys
        ip, port, n, size, connected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == '1'
        s = socket.socket(socket.AF_INET6 if ':' in ip else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        if connected: s.connect((ip, port))
        for _ in range(n):
            if connected:
                s.send(b'u' * size); s.recv(65536)
            else:
                s.sendto(b'u' * size, (ip, port)); s.recvfrom(65536)
        print('done', flush=True)
        """, ip, String(port), String(count), String(size), connected ? "1" : "0"]
    }
}
