import Foundation

/// On SIGINT/SIGTERM, NodeLab's handler tears the labs down and then exits the process with
/// 128 + signal (running our atexit cleanup). Meanwhile the demo's own thread sees its pods
/// vanish and fails; those failures are the teardown's doing, so it waits for that exit
/// instead of reporting them. Returns only if the exit has not come after `limit` seconds.
enum Interruption {
    static func awaitExit(say: (String) -> Void, limit: TimeInterval = 30) {
        say("interrupted: tearing everything down")
        Thread.sleep(forTimeInterval: limit)
    }
}
