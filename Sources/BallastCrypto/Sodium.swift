import CSodium

/// libsodium must be initialised once per process before any other call.
/// `sodium_init` is itself idempotent and thread-safe; a Swift global is
/// initialised exactly once (under `swift_once`), so every entry point of
/// this module touches `Sodium.ready` first and pays nothing after the first call.
enum Sodium {
    static let ready: Bool = {
        // 0: initialised now, 1: already initialised, -1: failure (no entropy source).
        sodium_init() >= 0
    }()

    @inline(__always)
    static func ensureReady() {
        // A libsodium that cannot initialise cannot sign or verify anything;
        // there is no safe way to continue, and no input from outside reaches here.
        precondition(ready, "libsodium failed to initialise (sodium_init returned -1)")
    }
}
