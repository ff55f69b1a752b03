import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TCP ports on 127.0.0.1 that are free now, so that parallel runs and leftovers
/// of earlier runs cannot collide.
public enum LoopbackPorts {
    /// `n` ports the OS says are free (bound to port 0, then released).
    public static func free(_ n: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<n {
            guard let (fd, port) = bindLoopback(port: 0) else { throw ClusterError("cannot bind a loopback port") }
            sockets.append(fd)
            ports.append(port)
        }
        return ports
    }

    /// The first port of `count` consecutive free ports, searched from a random start
    /// in 20000..<60000 (cluster nodes use base + I).
    public static func freeRange(_ count: Int) throws -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000..<(60_000 - count))
            var sockets: [Int32] = []
            defer { sockets.forEach { close($0) } }
            for port in base..<(base + count) {
                guard let (fd, _) = bindLoopback(port: port) else { break }
                sockets.append(fd)
            }
            if sockets.count == count { return base }
        }
        throw ClusterError("found no \(count) consecutive free loopback ports")
    }

    /// A socket bound to 127.0.0.1:`port` (0: any) and the port it got, or nil.
    private static func bindLoopback(port: Int) -> (Int32, Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            return nil
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
