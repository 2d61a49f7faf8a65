import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to its end with `posix_spawn`, stdin from a string and stdout and stderr into files.
///
/// Not Foundation's `Process`: on Linux (Swift 6.3.1) its `run()` reads `/proc/self/fd` with a
/// 256-byte copy of each `dirent` and now and then reads past the end of glibc's buffer, which
/// crashed the whole test process in CI (swiftlang/swift-corelibs-foundation#5472).
enum ChildProcess {
    struct Exit {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    enum Failure: Error, CustomStringConvertible {
        case spawn(Int32)
        case wait(Int32)
        var description: String {
            switch self {
            case .spawn(let code): "posix_spawn failed: \(String(cString: strerror(code)))"
            case .wait(let code): "waitpid failed: \(String(cString: strerror(code)))"
            }
        }
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String?) throws -> Exit {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/stdin", output = directory + "/stdout", error = directory + "/stderr"
        try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: input))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw Failure.spawn(spawned) }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw Failure.wait(errno) }
        }
        // Exited: the exit code; killed by a signal: 128 + the signal, as a shell reports it.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        func read(_ path: String) -> String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }
        return Exit(status: code, stdout: read(output), stderr: read(error))
    }
}
