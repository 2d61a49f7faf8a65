import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A password from one line of standard input (`--password-stdin`) or a prompt on the terminal.
enum PasswordInput {
    static func read(fromStandardInput: Bool, confirm: Bool) throws -> String {
        if fromStandardInput {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("no password on standard input")
            }
            return line
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("standard input is not a terminal: use --password-stdin")
        }
        let first = try prompt("Password: ")
        if confirm, try prompt("Repeat password: ") != first {
            throw ValidationError("passwords do not match")
        }
        return first
    }

    private static func prompt(_ text: String) throws -> String {
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        FileHandle.standardError.write(Data(text.utf8))
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("no password entered")
        }
        return line
    }
}
